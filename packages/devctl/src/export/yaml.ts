// YAML through the `yaml` library, the same way for every generated file: keys sorted (output is
// deterministic whatever the order objects were built in), no line folding, and no anchors or
// aliases for objects used twice (labels): each manifest reads on its own.
import { stringify } from 'yaml';

export function toYaml(value: unknown): string {
  return stringify(value, { sortMapEntries: true, lineWidth: 0, aliasDuplicateObjects: false });
}

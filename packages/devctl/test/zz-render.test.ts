import { it } from 'vitest';
import { renderReport } from '../src/diagnose/render';
import { diagnoseRecording, loadRecording } from './diagnose-recorded';

it('render', () => {
  for (const name of (process.env.PEEK ?? '').split(',')) {
    const findings = diagnoseRecording(loadRecording(name));
    console.log(`===== ${name}\n${renderReport({ healthy: false, checked: [], findings })}`);
    if (process.env.JSON) console.log(JSON.stringify(findings[0], null, 2));
  }
});

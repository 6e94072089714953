// The log reader: reads PM2 log files from their end, understands PM2's time prefix and the
// services' pino JSON lines, merges logs in time order, follows them across rotations.
export { type LevelName, type LogEntry, type LogStream, type ParsedLine, parseLine } from './entry';
export { type FollowOptions, followSources } from './follow';
export {
  entriesBackward,
  type LogSource,
  logFiles,
  type ReadOptions,
  readLastEntries,
  readLastMerged,
  snapshotSizes,
} from './reader';
export { type LogEntryJson, type RenderMode, type RenderOptions, renderEntry, toJson } from './render';
export { CHUNK_SIZE, readLinesBackward } from './reverse-lines';
export { rotatedFiles } from './rotation';
export { compileGrep, instanceLogFiles, type LogSelection, selectLogs } from './select';
export { parseSince } from './since';

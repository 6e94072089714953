import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../src/temp';

/**
 * A child that writes new files into `dir` as fast as it can for `forMs` (never recreating the folder),
 * then exits: each pass of a remover lists the folder, and files written meanwhile make its final
 * rmdir fail with ENOTEMPTY.
 */
function lateWriter(dir: string, forMs: number) {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `const fs=require('node:fs');const end=Date.now()+${forMs};let n=0;
       fs.writeFileSync(${JSON.stringify(dir)}+'/late-0','x');process.stdout.write('ready\\n');
       const burst=()=>{for(let i=0;i<200;i++){try{fs.writeFileSync(${JSON.stringify(dir)}+'/late-'+(++n),'x')}catch{process.exit(0)}}
       if(Date.now()<end)setImmediate(burst);else process.exit(0)};burst();`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const ready = new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { ready, exited, kill: () => child.kill('SIGKILL') };
}

describe('tempDir cleanup', () => {
  it('removes a folder another process is still writing into once the writes stop', async () => {
    const dir = tempDir('temp-test-');
    for (let i = 0; i < 200; i++) writeFileSync(join(dir.path, `file-${i}`), 'x');
    const writer = lateWriter(dir.path, 1_000);
    await writer.ready;
    try {
      dir.cleanup();
      expect(existsSync(dir.path)).toBe(false);
    } finally {
      writer.kill();
    }
  });
});

import { cli } from './cli';

// A closed pipe (`devctl logs | head`) is a normal way for output to end, not a crash.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

const code = await cli();
process.exitCode = code;

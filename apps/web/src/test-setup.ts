import { cleanup, configure } from '@testing-library/react';
import { afterEach } from 'vitest';

// findBy* and waitFor give up after 1 s by default: a page that renders after a fetch to a local
// stub took longer than that once on a loaded two-core machine (a whole `pnpm test` of a project
// made by `devctl init`, beside four packages' tests). A bound, not a timing: they resolve as soon
// as the element is there.
configure({ asyncUtilTimeout: 10_000 });

// Testing Library unmounts automatically only when test globals are on; they are off here.
afterEach(() => {
  cleanup();
  window.localStorage.clear();
});

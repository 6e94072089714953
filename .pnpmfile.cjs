// The root links devctl's bin (`pnpm devctl ...`, and the `pm2:*` and `dev` scripts) without
// declaring it in package.json, so that turbo's cache keeps working across devctl edits.
//
// turbo folds every file of the packages the root package.json depends on (workspace:*) into the
// global hash of every task (`globalCacheInputs.hashOfInternalDependencies`, turbo 2.x): with
// `@repo/devctl` declared there, any edit to devctl changed the hash of every build and test in the
// workspace, and the next `pnpm test` ran all of them again instead of the few that read devctl.
// turbo reads the dependency graph from the package.json files on disk, pnpm from them after this
// hook: the root still gets node_modules/.bin/devctl, and turbo sees no root dependency.
// (devctl's own tests check both: test/workspace-cache.test.ts.)
const rootName = require('./package.json').name;

module.exports = {
  hooks: {
    readPackage(pkg) {
      if (pkg.name === rootName) {
        pkg.devDependencies = { ...pkg.devDependencies, '@repo/devctl': 'workspace:*' };
      }
      return pkg;
    },
  },
};

// run.js - node's test runner over the files given, in the order given,
// JOBS at a time, reporting TAP on standard output; exits non-zero if a
// test failed. (node --test runs its files in name order; tests/run starts
// the longest first.) Usage: node run.js JOBS FILE...
'use strict';
const { run } = require('node:test');
const { tap } = require('node:test/reporters');

const [jobs, ...files] = process.argv.slice(2);
let failed = false;
const stream = run({ files, concurrency: Number(jobs) });
stream.on('test:fail', () => { failed = true; });
stream.compose(tap).pipe(process.stdout);
process.on('exit', (code) => { if (failed && code === 0) process.exitCode = 1; });

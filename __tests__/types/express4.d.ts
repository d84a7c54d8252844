// express4 is an npm alias of express 4 (installed for the compatibility
// tests) without its own typings; the express 5 typings fit what the tests use.
declare module 'express4' {
  import express from 'express';
  export default express;
}

// Authdash: compiles app.wasm off the page's main thread. Compiled on the
// page, V8 takes the streamed bytes in there (tasks of 60–300 ms while it
// downloads, which Lighthouse counts as blocking); here they cost the page
// nothing. The page (app.js) posts the URL of app.wasm and gets back the
// compiled WebAssembly.Module, which it instantiates and runs: a module
// posted between threads shares its compiled code, it is not compiled again.
// Compiled from the fetch's own answer, so the browser keeps the code for
// the next visit. Anything that fails is posted as a string: the page then
// compiles on its own thread, as before.
"use strict";
self.onmessage = async (e) => {
  try {
    self.postMessage(await WebAssembly.compileStreaming(fetch(e.data)));
  } catch (err) {
    self.postMessage(String(err));
  }
};

// Calls the export arguments[1] of the page's module arguments[0] (a URL path) with the list
// arguments[2] as its arguments, or reads it when it is not a function: {value} or {error: message}.
// Run by execute_async_script (the last argument is the callback).
const done = arguments[arguments.length - 1];
const [path, name, args] = arguments;
import(path)
  .then((m) => {
    try {
      done({ value: typeof m[name] === "function" ? m[name](...args) : m[name] });
    } catch (error) {
      done({ error: error.message });
    }
  })
  .catch((error) => done({ error: `import ${path}: ${error}` }));

// The page's own parser (static/js/formats.js) on arguments[0]: a list of [text, file name].
// Run by execute_async_script: the last argument is the callback.
const done = arguments[arguments.length - 1];
import("/static/js/formats.js").then((m) => done(arguments[0].map(([text, name]) => m.parseInput(text, name))));

// The page's entry: opens the stream first, then loads the app. With thousands of objects the snapshot is what the
// first screen waits for, so its request goes out before the app's code (Preact, the pages) is downloaded, compiled
// and run, and the server packs it meanwhile; this module is small for that reason. Without a session the server
// refuses the stream, and the app opens it again after login.
import { LiveModel } from "./live.js";
// In the entry, so the stylesheet is linked from the page and loads beside this module.
import "./styles.css";

const model = new LiveModel();
model.connect();
void import("./main.js").then((app) => app.start(model));

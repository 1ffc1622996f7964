import { createRequire as __createRequire } from 'node:module';
import { fileURLToPath as __fileURLToPath } from 'node:url';
import { dirname as __pathDirname } from 'node:path';
const require = __createRequire(import.meta.url);
const __filename = __fileURLToPath(import.meta.url);
const __dirname = __pathDirname(__filename);
import {
  __commonJS
} from "./chunk-5NNBXD53.js";

// ../../work/main/node_modules/async-exit-hook/index.js
var require_async_exit_hook = __commonJS({
  "../../work/main/node_modules/async-exit-hook/index.js"(exports, module) {
    var hooks = [];
    var errHooks = [];
    var called = false;
    var waitingFor = 0;
    var asyncTimeoutMs = 1e4;
    var events = {};
    var filters = {};
    function exit(exit2, code, err) {
      let doExitDone = false;
      function doExit() {
        if (doExitDone) {
          return;
        }
        doExitDone = true;
        if (exit2 === true) {
          process.nextTick(process.exit.bind(null, code));
        }
      }
      function stepTowardExit() {
        process.nextTick(() => {
          if (--waitingFor === 0) {
            doExit();
          }
        });
      }
      function runHook(syncArgCount, err2, hook) {
        if (exit2 && hook.length > syncArgCount) {
          waitingFor++;
          if (err2) {
            return hook(err2, stepTowardExit);
          }
          return hook(stepTowardExit);
        }
        if (err2) {
          return hook(err2);
        }
        return hook();
      }
      if (called) {
        return;
      }
      called = true;
      if (err) {
        errHooks.map(runHook.bind(null, 1, err));
      }
      hooks.map(runHook.bind(null, 0, null));
      if (waitingFor) {
        setTimeout(() => {
          doExit();
        }, asyncTimeoutMs);
      } else {
        doExit();
      }
    }
    function add(hook) {
      hooks.push(hook);
      if (hooks.length === 1) {
        add.hookEvent("exit");
        add.hookEvent("beforeExit", 0);
        add.hookEvent("SIGHUP", 128 + 1);
        add.hookEvent("SIGINT", 128 + 2);
        add.hookEvent("SIGTERM", 128 + 15);
        add.hookEvent("SIGBREAK", 128 + 21);
        add.hookEvent("message", 0, function(msg) {
          if (msg !== "shutdown") {
            return true;
          }
        });
      }
    }
    add.hookEvent = function(event, code, filter) {
      events[event] = function() {
        const eventFilters = filters[event];
        for (let i = 0; i < eventFilters.length; i++) {
          if (eventFilters[i].apply(this, arguments)) {
            return;
          }
        }
        exit(code !== void 0 && code !== null, code);
      };
      if (!filters[event]) {
        filters[event] = [];
      }
      if (filter) {
        filters[event].push(filter);
      }
      process.on(event, events[event]);
    };
    add.unhookEvent = function(event) {
      process.removeListener(event, events[event]);
      delete events[event];
      delete filters[event];
    };
    add.hookedEvents = function() {
      const ret = [];
      for (const name in events) {
        if ({}.hasOwnProperty.call(events, name)) {
          ret.push(name);
        }
      }
      return ret;
    };
    add.uncaughtExceptionHandler = function(hook) {
      errHooks.push(hook);
      if (errHooks.length === 1) {
        process.once("uncaughtException", exit.bind(null, true, 1));
      }
    };
    add.unhandledRejectionHandler = function(hook) {
      errHooks.push(hook);
      if (errHooks.length === 1) {
        process.once("unhandledRejection", exit.bind(null, true, 1));
      }
    };
    add.forceExitTimeout = function(ms) {
      asyncTimeoutMs = ms;
    };
    module.exports = add;
  }
});
export default require_async_exit_hook();

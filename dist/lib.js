import { createRequire as __createRequire } from 'node:module';
import { fileURLToPath as __fileURLToPath } from 'node:url';
import { dirname as __pathDirname } from 'node:path';
const require = __createRequire(import.meta.url);
var __filename = __fileURLToPath(import.meta.url);
var __dirname = __pathDirname(__filename);
import {
  backupsList,
  cacheClear,
  cacheList,
  copyDatabase,
  diffDatabases,
  renderJson,
  renderJsonError
} from "./chunk-5BH6RID4.js";
import {
  COMMENT_LIMIT,
  DEFAULTS,
  SUMMARY_LIMIT,
  SupagateError,
  VERSION,
  apply,
  drift,
  isSupagateError,
  plan,
  renderApply,
  renderApplyMarkdown,
  renderBackups,
  renderCopy,
  renderDiff,
  renderDrift,
  renderDriftMarkdown,
  renderError,
  renderPlan,
  renderPlanMarkdown,
  renderRollback,
  renderStatus,
  renderVerify,
  resolveConfig,
  rollback,
  rollbackToBackup,
  status,
  verify,
  withProgress
} from "./chunk-77252W33.js";
import "./chunk-SXXRVWWZ.js";
export {
  COMMENT_LIMIT,
  DEFAULTS,
  SUMMARY_LIMIT,
  SupagateError,
  VERSION,
  apply,
  backupsList,
  cacheClear,
  cacheList,
  copyDatabase,
  diffDatabases,
  drift,
  isSupagateError,
  plan,
  renderApply,
  renderApplyMarkdown,
  renderBackups,
  renderCopy,
  renderDiff,
  renderDrift,
  renderDriftMarkdown,
  renderError,
  renderJson,
  renderJsonError,
  renderPlan,
  renderPlanMarkdown,
  renderRollback,
  renderStatus,
  renderVerify,
  resolveConfig,
  rollback,
  rollbackToBackup,
  status,
  verify,
  withProgress
};

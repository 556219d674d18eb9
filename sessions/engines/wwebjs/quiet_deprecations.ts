/**
 * @module
 * Imported first by the whatsapp-web.js Worker: whatsapp-web.js's node-fetch loads Node's
 * deprecated `punycode`, which prints one DeprecationWarning on stderr per session start, about a
 * library's internals that an operator can do nothing about. Modules run in import order, so this
 * runs before the library loads.
 */
import process from "node:process";

Object.assign(process, { noDeprecation: true }); // Documented by Node, missing from its types.

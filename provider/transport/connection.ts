/** The connection type and its check live in common/ (components check connections too). */
export { Connection, describe, parseHostKey, PinnedKey, validateConnection } from "../../common/connection";

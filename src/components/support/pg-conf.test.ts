import { describe, expect, it } from "vitest";
import { parseConf, quoteValue } from "./pg-conf.js";

describe("postgresql.conf parsing", () => {
  it("reads name = value and name value, quoted and unquoted, ignoring comments", () => {
    const text = "# header\nwork_mem = 16MB   # sorts\n\nshared_buffers 256MB\nsearch_path = '\"$user\", public'\nlog_line_prefix = '%m it''s'\nDateStyle='ISO, DMY'\n";
    expect(parseConf(text)).toEqual({
      entries: [
        { name: "work_mem", value: "16MB", line: 2 },
        { name: "shared_buffers", value: "256MB", line: 4 },
        { name: "search_path", value: '"$user", public', line: 5 },
        { name: "log_line_prefix", value: "%m it's", line: 6 },
        { name: "datestyle", value: "ISO, DMY", line: 7 },
      ],
      errors: [],
    });
  });

  it("reports every bad line with its number and goes on", () => {
    const { entries, errors } = parseConf("= 3\nwork_mem = '16MB\nport = 5432 extra\nfsync =\nok = on\n");
    expect(errors).toEqual([
      { line: 1, message: 'syntax error: expected a parameter name, got "= 3"' },
      { line: 2, message: "work_mem: unterminated quoted string" },
      { line: 3, message: 'port: unexpected text after the value: "extra"' },
      { line: 4, message: "fsync: missing value" },
    ]);
    expect(entries).toEqual([{ name: "ok", value: "on", line: 5 }]);
  });

  it("quotes values so the server reads them back unchanged", () => {
    expect(quoteValue("it's")).toBe("'it''s'");
    expect(quoteValue(true)).toBe("'on'");
    expect(quoteValue(5432)).toBe("'5432'");
    const back = parseConf(`x = ${quoteValue("a 'b' c")}\n`).entries[0]?.value;
    expect(back).toBe("a 'b' c");
  });
});

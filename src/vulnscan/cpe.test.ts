import { describe, expect, it } from "vitest";
import { parseCpe } from "./cpe.js";

describe("parseCpe", () => {
  it("reads the eleven attributes", () => {
    expect(parseCpe("cpe:2.3:a:openssl:openssl:1.0.1f:*:*:*:*:*:*:*")).toMatchObject({ part: "a", vendor: "openssl", product: "openssl", version: "1.0.1f", update: "*" });
    expect(parseCpe("cpe:2.3:a:sudo_project:sudo:1.9.5:patch1:*:*:*:*:*:*")?.update).toBe("patch1");
    expect(parseCpe("cpe:2.3:a:jenkins:git:*:*:*:*:*:jenkins:*:*")?.targetSw).toBe("jenkins");
  });

  it("removes backslash escapes (real NVD criteria)", () => {
    expect(parseCpe("cpe:2.3:a:siemens:logo\\!_soft_comfort:*:*:*:*:*:*:*:*")?.product).toBe("logo!_soft_comfort");
    expect(parseCpe("cpe:2.3:o:cisco:ios:12.6\\(1\\):*:*:*:*:*:*:*")?.version).toBe("12.6(1)");
    expect(parseCpe("cpe:2.3:a:netapp:solidfire\\,_enterprise_sds_\\&_hci_storage_node:-:*:*:*:*:*:*:*")?.product).toBe("solidfire,_enterprise_sds_&_hci_storage_node");
    expect(parseCpe("cpe:2.3:a:beyondtrust:privilege_management_for_unix\\/linux:*:*:*:*:*:*:*:*")?.product).toBe("privilege_management_for_unix/linux");
    expect(parseCpe("cpe:2.3:a:x:a\\:b:1:*:*:*:*:*:*:*")?.product).toBe("a:b");
  });

  it("keeps an escaped * apart from ANY", () => {
    expect(parseCpe("cpe:2.3:a:x:y:\\*:*:*:*:*:*:*:*")?.version).toBe("\\*");
  });

  it("rejects what is not CPE 2.3", () => {
    expect(parseCpe("cpe:/a:openssl:openssl:1.0.1f")).toBeUndefined();
    expect(parseCpe("cpe:2.3:a:openssl")).toBeUndefined();
    expect(parseCpe("cpe:2.3:x:a:b:c:*:*:*:*:*:*:*")).toBeUndefined();
  });
});

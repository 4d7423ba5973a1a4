// `--device NAME` for the commands that compile steps: any registered device (runtime/devices.ts).
import { deviceNamed, deviceNames, registeredDevices } from "../runtime/index.ts";

/** The flag as usage text: `[--device cpu|cuda|…]`. */
export const deviceUsage = (): string => `[--device ${deviceNames().join("|")}]`;

/** One line per registered device, for a command's help. */
export const deviceHelp = (): string =>
  registeredDevices()
    .map((d) => `  --device ${d.name.padEnd(14)} ${d.summary}`)
    .join("\n");

/** The device named by `--device` (its value, or a flag map; default cpu); an unknown name is an error listing the registered ones. */
export function deviceFlag(given: ReadonlyMap<string, string> | string | undefined): string {
  const name = (typeof given === "object" ? given.get("device") : given) ?? "cpu";
  try {
    return deviceNamed(name).name;
  } catch {
    throw new Error(`--device ${name}: expected one of ${deviceNames().join(", ")}`);
  }
}

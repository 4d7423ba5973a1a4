// The public API of bench/ for the command line: the `kiln bench` command (bench/command.ts), which
// bin/main.ts loads at run time by a dynamic import, the one way bin/ may reach bench/ (test/boundaries.test.ts).
export { default } from "./command.ts";

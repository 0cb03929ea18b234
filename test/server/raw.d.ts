// The wire examples of docs/protocol.md, read by the frame fuzz (Vite's ?raw import).
declare module '*.md?raw' {
  const text: string;
  export default text;
}

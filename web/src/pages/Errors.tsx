// Placeholder until the page lands (issue F, in progress).
export default function Errors() {
  return <h1>Errors</h1>;
}

// Placeholder until the page lands (issue F, in progress).
export default function Recommendations() {
  return <h1>Recommendations</h1>;
}

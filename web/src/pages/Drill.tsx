// Placeholder until the page lands (issue F, in progress).
export default function Drill() {
  return <h1>Drill</h1>;
}

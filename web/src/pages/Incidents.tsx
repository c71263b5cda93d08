// Placeholder until the page lands (issue F, in progress).
export default function Incidents() {
  return <h1>Incidents</h1>;
}

// Placeholder until the page lands (issue F, in progress).
export default function IncidentDetail() {
  return <h1>IncidentDetail</h1>;
}

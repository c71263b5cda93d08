// Placeholder until the page lands (issue F, in progress).
export default function Anomalies() {
  return <h1>Anomalies</h1>;
}

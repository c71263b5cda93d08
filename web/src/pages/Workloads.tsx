// Placeholder until the page lands (issue F, in progress).
export default function Workloads() {
  return <h1>Workloads</h1>;
}

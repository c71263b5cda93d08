// Placeholder until the page lands (issue F, in progress).
export default function Overview() {
  return <h1>Overview</h1>;
}

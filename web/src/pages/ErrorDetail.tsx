// Placeholder until the page lands (issue F, in progress).
export default function ErrorDetail() {
  return <h1>ErrorDetail</h1>;
}

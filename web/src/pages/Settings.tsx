// Placeholder until the page lands (issue F, in progress).
export default function Settings() {
  return <h1>Settings</h1>;
}

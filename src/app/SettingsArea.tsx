/**
 * Step 3: the settings H7b builds (task and guidance controls, mask editor, references, models).
 * Kept in one file so wiring their panels in touches only this place.
 */
export function SettingsArea() {
  return (
    <section className="panel" aria-labelledby="settings-title" data-testid="settings-area" id="models">
      <h2 id="settings-title" className="panel__title">
        <span className="step-number" aria-hidden="true">3</span> What to fix
      </h2>
    </section>
  );
}

import { useState } from 'react';
import { useAppStore } from '../../store';
import { engine } from '../../worker-client';
import { toAppError } from '../errors/errors';
import { formatDuration } from '../run/run-math';

/** Switch the engine to another device and show its capabilities (the model set is re-loaded by the client). */
async function chooseDevice(device: 'auto' | 'webgpu' | 'wasm'): Promise<void> {
  const st = useAppStore.getState();
  try {
    st.setCapabilities(await engine.setDevice(device));
  } catch (e) {
    st.setCapabilitiesError(toAppError(e).message);
  }
}

/** What this device offers: WebGPU or not, fp16 shaders, the backend in use, and a measured speed. */
export function CapabilitiesPanel() {
  const caps = useAppStore((s) => s.capabilities);
  const error = useAppStore((s) => s.capabilitiesError);
  const stepMs = useAppStore((s) => s.measuredStepMs);
  const running = useAppStore((s) => s.runStatus === 'running' || s.runStatus === 'cancelling');
  const [switching, setSwitching] = useState(false);
  const switchTo = (d: 'auto' | 'webgpu' | 'wasm') => {
    setSwitching(true);
    void chooseDevice(d).finally(() => setSwitching(false));
  };
  if (error) {
    return (
      <div className="caps" data-testid="capabilities" data-state="error">
        <p className="notice notice--error" role="alert">
          The engine could not start: {error} Reload the page; if it persists, this browser may be too old.
        </p>
      </div>
    );
  }
  if (!caps) {
    return (
      <div className="caps" data-testid="capabilities" data-state="checking">
        <span className="badge">Checking your device…</span>
      </div>
    );
  }
  return (
    <div className="caps" data-testid="capabilities" data-state="ready" data-backend={caps.backend}>
      <ul className="badges" aria-label="Device capabilities">
        <li className={`badge ${caps.webgpu ? 'badge--ok' : 'badge--warn'}`} data-testid="cap-webgpu">
          WebGPU: {caps.webgpu ? 'yes' : 'no'}
        </li>
        {caps.webgpu && (
          <li className="badge" data-testid="cap-f16">
            shader-f16: {caps.shaderF16 ? 'yes' : 'no'}
          </li>
        )}
        <li className="badge" data-testid="cap-backend">
          Runs on:{' '}
          {caps.backend === 'webgpu'
            ? 'GPU (WebGPU)'
            : caps.backend === 'wasm'
              ? `CPU (WASM, ${caps.threads} thread${caps.threads === 1 ? '' : 's'})`
              : 'CPU'}
        </li>
        {caps.adapter && (
          <li className="badge badge--quiet" title={caps.adapter}>
            {caps.adapter}
          </li>
        )}
        {stepMs !== undefined && (
          <li className="badge" data-testid="cap-speed">
            {formatDuration(stepMs)} per step
          </li>
        )}
      </ul>
      {caps.backend !== 'webgpu' && (
        <p className="notice notice--info" data-testid="cap-fallback">
          {caps.fallbackReason ?? 'WebGPU is not available in this browser.'}{' '}
          {caps.softwareAdapter
            ? ''
            : 'Restoration runs on your CPU with WebAssembly instead: it works, but it is slower than a GPU. Chrome or Edge on a recent computer usually have WebGPU. '}
          {stepMs !== undefined
            ? `Measured here: ${formatDuration(stepMs)} per model call, so 100 steps from pure noise take about ${formatDuration(stepMs * 100)}.`
            : 'An estimate based on this device appears once a run starts.'}
        </p>
      )}
      {caps.softwareAdapter && (
        <p className="caps-device">
          {caps.backend === 'webgpu' ? (
            <button
              type="button"
              className="button button--small"
              disabled={switching || running}
              onClick={() => switchTo('auto')}
              data-testid="device-cpu"
            >
              Use the CPU instead (faster than a software GPU)
            </button>
          ) : (
            <button
              type="button"
              className="button button--small"
              disabled={switching || running}
              onClick={() => switchTo('webgpu')}
              data-testid="device-webgpu"
            >
              Use WebGPU anyway (software renderer, slow)
            </button>
          )}
        </p>
      )}
    </div>
  );
}

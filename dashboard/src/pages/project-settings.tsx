import {
  CommandSchema,
  RegionListSchema,
  RelativeDirSchema,
  type ProjectView,
  type Region,
  type UpdateProjectBody,
} from '@deploysphere/contracts';
import { useState, type FormEvent } from 'react';
import { ApiError } from '../api/client.js';
import { api } from '../api/endpoints.js';
import { ErrorState } from '../components/error-state.js';
import { LoadingState } from '../components/loading-state.js';
import { RegionPicker } from '../components/region-picker.js';
import { TextField } from '../components/text-field.js';
import { fieldError } from '../lib/field-error.js';
import type { Load } from '../lib/use-async.js';
import { DeleteProject } from './delete-project.js';
import { SaveNotice } from '../components/save-notice.js';
import { DomainsEditor } from './domains-editor.js';
import { EnvVarsEditor } from './env-vars-editor.js';

interface ProjectSettingsProps {
  project: ProjectView;
  regions: Load<Region[]>;
  onSaved: (project: ProjectView) => void;
  onDeleted: () => void;
}

/** Build settings and regions apply from the next deployment on; the running site is untouched. */
export function ProjectSettings({ project, regions, onSaved, onDeleted }: ProjectSettingsProps) {
  const [installCommand, setInstallCommand] = useState(project.installCommand);
  const [buildCommand, setBuildCommand] = useState(project.buildCommand);
  const [outputDir, setOutputDir] = useState(project.outputDir ?? '');
  const [selected, setSelected] = useState<string[]>(project.regions);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; message: string; field?: string | undefined }>();

  const errors = {
    installCommand: fieldError(CommandSchema, installCommand),
    buildCommand: fieldError(CommandSchema, buildCommand),
    outputDir: outputDir.trim() ? fieldError(RelativeDirSchema, outputDir) : undefined,
    regions: fieldError(RegionListSchema, selected),
  };
  const invalid = Object.values(errors).some(Boolean);
  const serverField = result && !result.ok ? result.field?.split('.')[0] : undefined;

  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (invalid) return;
    const body: UpdateProjectBody = {
      installCommand,
      buildCommand,
      outputDir: outputDir.trim() ? outputDir : null,
      regions: selected,
    };
    setBusy(true);
    setResult(undefined);
    try {
      const saved = await api.updateProject(project.slug, body);
      onSaved(saved);
      setResult({ ok: true, message: 'Saved. The next deployment uses these settings.' });
    } catch (err) {
      setResult({
        ok: false,
        message: err instanceof ApiError ? err.message : 'Could not save',
        field: err instanceof ApiError ? err.field : undefined,
      });
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="settings">
      <form className="card form-grid" onSubmit={save} noValidate aria-labelledby="build-settings">
        <h2 id="build-settings">Build and regions</h2>
        <div className="field-row">
          <TextField
            id="settings-install"
            label="Install command"
            value={installCommand}
            onChange={(e) => setInstallCommand(e.target.value)}
            error={errors.installCommand ?? (serverField === 'installCommand' ? result?.message : undefined)}
            className="mono"
          />
          <TextField
            id="settings-build"
            label="Build command"
            value={buildCommand}
            onChange={(e) => setBuildCommand(e.target.value)}
            error={errors.buildCommand ?? (serverField === 'buildCommand' ? result?.message : undefined)}
            className="mono"
          />
        </div>
        <TextField
          id="settings-output"
          label="Output directory (optional)"
          value={outputDir}
          onChange={(e) => setOutputDir(e.target.value)}
          error={errors.outputDir}
          hint="Leave empty to detect it."
          className="mono"
        />
        {regions.state === 'loading' && <LoadingState label="Loading regions…" />}
        {regions.state === 'error' && <ErrorState error={regions.error} />}
        {regions.state === 'ok' && (
          <RegionPicker
            regions={regions.value}
            value={selected}
            onChange={setSelected}
            error={errors.regions ?? (serverField === 'regions' ? result?.message : undefined)}
          />
        )}
        <SaveNotice result={result} />
        <div className="form-actions">
          <button type="submit" className="primary" disabled={busy || invalid}>
            {busy ? 'Saving…' : 'Save settings'}
          </button>
        </div>
      </form>
      <EnvVarsEditor project={project} onSaved={onSaved} />
      <DomainsEditor project={project} onSaved={onSaved} />
      <DeleteProject slug={project.slug} onDeleted={onDeleted} />
    </div>
  );
}

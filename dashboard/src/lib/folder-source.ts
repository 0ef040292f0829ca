import type { DroppedFile } from './folder-listing.js';

/**
 * The files of a folder the user dropped or chose, with paths relative to that folder. Browsers
 * give them two ways: a drop hands over entries to walk (`webkitGetAsEntry`), a directory input
 * (`webkitdirectory`) a flat list whose `webkitRelativePath` starts with the folder's own name.
 */

/** A directory's entries: `readEntries` answers in batches (100 in Chromium) until an empty one. */
function readAll(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const all: FileSystemEntry[] = [];
  return new Promise((resolve, reject) => {
    const next = () =>
      reader.readEntries((batch) => {
        if (batch.length === 0) return resolve(all);
        all.push(...batch);
        next();
      }, reject);
    next();
  });
}

function fileOf(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

async function walk(entry: FileSystemEntry, prefix: string, out: DroppedFile<File>[]): Promise<void> {
  const path = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (entry.isFile) out.push({ path, file: await fileOf(entry as FileSystemFileEntry) });
  else if (entry.isDirectory) {
    for (const child of await readAll(entry as FileSystemDirectoryEntry)) await walk(child, path, out);
  }
}

/**
 * What a drop holds. One folder dropped: its contents, relative to it (as `deploysphere deploy
 * <folder>`). Loose files (or several folders): each at the top of the site.
 */
export async function filesFromDrop(items: DataTransferItemList): Promise<DroppedFile<File>[]> {
  // The entries must be taken synchronously, before the drop event returns.
  const entries: FileSystemEntry[] = [];
  const loose: DroppedFile<File>[] = [];
  for (const item of Array.from(items)) {
    if (item.kind !== 'file') continue;
    const entry = item.webkitGetAsEntry();
    if (entry) entries.push(entry);
    else {
      // No entry (a file dragged from another page, or a browser without the API): the file itself.
      const file = item.getAsFile();
      if (file) loose.push({ path: file.name, file });
    }
  }
  const out: DroppedFile<File>[] = [...loose];
  const [only] = entries;
  if (entries.length === 1 && loose.length === 0 && only?.isDirectory) {
    for (const child of await readAll(only as FileSystemDirectoryEntry)) await walk(child, '', out);
  } else {
    for (const entry of entries) await walk(entry, '', out);
  }
  return out;
}

/** A `webkitdirectory` input's files: `site/about/index.html` → `about/index.html`. */
export function filesFromDirectoryInput(files: FileList | readonly File[]): DroppedFile<File>[] {
  return Array.from(files).map((file) => {
    const relative = file.webkitRelativePath || file.name;
    const slash = relative.indexOf('/');
    return { path: slash === -1 ? relative : relative.slice(slash + 1), file };
  });
}

/** The dropped folder's name, for the slug suggestion. */
export function folderName(files: FileList | readonly File[]): string | undefined {
  const first = Array.from(files)[0]?.webkitRelativePath;
  return first?.includes('/') ? first.slice(0, first.indexOf('/')) : undefined;
}

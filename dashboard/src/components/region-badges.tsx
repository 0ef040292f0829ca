import type { Region } from '@deploysphere/contracts';

/** Regions in order, the primary marked, with each region's location as its tooltip. */
export function RegionBadges({ ids, regions }: { ids: readonly string[]; regions?: readonly Region[] }) {
  return (
    <ul className="region-badges" aria-label="Regions">
      {ids.map((id, i) => {
        const region = regions?.find((r) => r.id === id);
        return (
          <li key={id} className={`badge region${i === 0 ? ' primary' : ''}`} title={region?.name}>
            {id}
            {i === 0 && ids.length > 1 && <span className="visually-hidden"> (primary)</span>}
          </li>
        );
      })}
    </ul>
  );
}

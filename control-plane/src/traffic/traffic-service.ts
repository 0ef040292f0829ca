import { AppError, type TrafficView, type TrafficWindow } from '@deploysphere/contracts';
import type { Db } from '@deploysphere/db';
import type { TrafficStore } from './traffic-store.js';

/** A project's edge traffic: which hostnames are the project's (PostgreSQL), then their counts (ClickHouse). */
export class TrafficService {
  constructor(
    private readonly db: Db,
    private readonly store: TrafficStore,
  ) {}

  async forProject(slug: string, window: TrafficWindow): Promise<TrafficView> {
    const project = await this.db.project.findUnique({ where: { slug }, include: { domains: true } });
    if (!project) throw AppError.notFound(`Project ${slug}`, 'slug');
    return this.store.forProject(project, window);
  }
}

import type { DownloadStrategy, Shape, UploadStrategy } from './strategies.js';

const MiB = 1024 * 1024;
const KiB = 1024;

/** Which target a workload is checked against. */
export type Role = 'large-upload' | 'medium-upload' | 'small-upload' | 'large-download';

export type Workload =
  | {
      readonly kind: 'upload';
      readonly strategies: readonly UploadStrategy[];
      readonly name: string;
      readonly role: Role;
      readonly count: number;
      readonly sizeBytes: number;
      readonly shape: Shape;
    }
  | {
      readonly kind: 'download';
      readonly strategies: readonly DownloadStrategy[];
      readonly name: string;
      readonly role: Role;
      readonly count: 1;
      readonly sizeBytes: number;
      readonly shape: Shape;
    };

/** One part size for everything: lib-storage's 5 MiB minimum rounded up to a power of two. */
export const PART_SIZE = 8 * MiB;

function label(count: number, size: number): string {
  return `${count}x${size >= MiB ? `${size / MiB}MiB` : `${size / KiB}KiB`}`;
}

function workloads(sizes: { large: number; medium: [number, number]; small: [number, number] }): Workload[] {
  const [mediumCount, mediumSize] = sizes.medium;
  const [smallCount, smallSize] = sizes.small;
  return [
    {
      kind: 'upload',
      name: `upload-${label(1, sizes.large)}`,
      role: 'large-upload',
      count: 1,
      sizeBytes: sizes.large,
      strategies: ['direct', 'keyhole', 'presigned-multipart'],
      shape: { objectConcurrency: 1, queueSize: 8, partSizeBytes: PART_SIZE },
    },
    {
      kind: 'upload',
      name: `upload-${label(mediumCount, mediumSize)}`,
      role: 'medium-upload',
      count: mediumCount,
      sizeBytes: mediumSize,
      strategies: [
        'direct',
        'keyhole',
        'presigned-put',
        'presigned-put-batch',
        'presigned-post',
        'presigned-multipart',
      ],
      shape: { objectConcurrency: 4, queueSize: 2, partSizeBytes: PART_SIZE },
    },
    {
      kind: 'upload',
      name: `upload-${label(smallCount, smallSize)}`,
      role: 'small-upload',
      count: smallCount,
      sizeBytes: smallSize,
      strategies: ['direct', 'keyhole', 'presigned-put', 'presigned-put-batch', 'presigned-post'],
      shape: { objectConcurrency: 16, queueSize: 1, partSizeBytes: PART_SIZE },
    },
    {
      kind: 'download',
      name: `download-${label(1, sizes.large)}`,
      role: 'large-download',
      count: 1,
      sizeBytes: sizes.large,
      strategies: ['direct', 'keyhole', 'presigned-get'],
      shape: { objectConcurrency: 1, queueSize: 1, partSizeBytes: PART_SIZE },
    },
  ];
}

export const FULL = workloads({ large: 512 * MiB, medium: [20, 20 * MiB], small: [1000, 16 * KiB] });
/** Smaller sizes for a CI smoke check; same strategies and shapes. */
export const QUICK = workloads({ large: 48 * MiB, medium: [4, 20 * MiB], small: [200, 16 * KiB] });

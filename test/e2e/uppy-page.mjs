// The page side of uppy.test.ts, bundled by esbuild (plain JavaScript, so the Node type-check of
// test/ does not load Uppy's DOM types): Uppy (`@uppy/core` and `@uppy/aws-s3` 6) with
// Keyhole's `uppyAwsS3Options`, uploading a Blob made in the page, reporting the outcome as plain data.
/* global window, Blob */
import AwsS3 from '@uppy/aws-s3';
import Uppy from '@uppy/core';
import { brokerCredentials, uppyAwsS3Options } from '../../client/index.js';
import { content } from './browser-upload-content.js';

/** @param {import('./uppy.test.js').UppyJob} job */
async function upload(job) {
  const credentials = brokerCredentials({ brokerUrl: job.brokerUrl, getToken: () => job.token });
  const options = await uppyAwsS3Options(credentials, job.sign ? { sign: job.sign } : {});
  const uppy = new Uppy({ autoProceed: false });
  uppy.use(AwsS3, {
    ...options,
    shouldUseMultipart: job.multipart,
    ...(job.forceKey ? { generateObjectKey: () => job.forceKey } : {}),
  });
  const blob = new Blob([content(job.size, job.seed)], { type: 'application/octet-stream' });
  uppy.addFile({ name: job.name, type: 'application/octet-stream', data: blob });
  const result = await uppy.upload();
  const out = {
    successful: (result?.successful ?? []).map((f) => ({
      key: f.s3Multipart?.key ?? f.response?.body?.key,
      location: f.response?.body?.location ?? f.uploadURL,
    })),
    failed: (result?.failed ?? []).map((f) => String(f.error ?? 'failed')),
    brokerRequests: credentials.brokerRequests,
  };
  uppy.destroy();
  return out;
}

window.khUppy = { upload };

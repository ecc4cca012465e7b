// The payload worker thread (payloadJob.ts's DeferredPayload starts it):
// one job, one answer.
import { answerSyncCall } from '../moduleWorker.ts';
import { runPayloadJob, type PayloadJob } from './payloadJob.ts';

answerSyncCall((job: PayloadJob) => runPayloadJob(job, true));

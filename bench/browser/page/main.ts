/** The bench page: every measurement the driver runs in a profile, as `window.bench`. */
import type { BenchApi } from '../api.ts';
import { control, later, longTasks } from './observe.ts';
import { addBlob, closePeer, fetchBlob, openPeer, resetCalls, storeCalls, syncFrom, waitLink } from './engine.ts';
import { feedTexts, makeFeed, makeFeeds, seedAccount, seedStore } from './feeds.ts';
import { idbGetEach, idbOneTransaction, idbPerEntry, idbTimelineRead, validateRate, verifyRate } from './limits.ts';
import { rawAccept, rawAnswer, rawArm, rawArrived, rawOffer, rawSendBinary, rawSendBlobFrames, rawSendTexts } from './raw-channel.ts';

const api: BenchApi = {
  later,
  longTasks,
  control,
  makeFeed,
  makeFeeds,
  feedTexts,
  seedStore,
  seedAccount,
  verifyRate,
  validateRate,
  idbOneTransaction,
  idbPerEntry,
  idbGetEach,
  idbTimelineRead,
  rawOffer,
  rawAnswer,
  rawAccept,
  rawArm,
  rawArrived,
  rawSendTexts,
  rawSendBinary,
  rawSendBlobFrames,
  openPeer,
  waitLink,
  syncFrom,
  addBlob,
  fetchBlob,
  closePeer,
  resetCalls,
  storeCalls,
};
window.bench = api;
document.body.dataset.ready = 'yes';

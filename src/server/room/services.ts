/**
 * The services this room runs, in the order their hooks run. To add one
 * (dropbox, data lease): write a RoomService module (see service.ts) and
 * list it here; nothing else in the room changes.
 */
import { datalease } from '../hosted/lease.ts';
import { dropbox } from '../hosted/dropbox.ts';
import { blobs } from './blobs.ts';
import { headtracking } from './heads.ts';
import { relaying } from './relaying.ts';
import type { RoomService } from './service.ts';
import { signalling } from './signalling.ts';

export const ROOM_SERVICES: readonly RoomService[] = [signalling, headtracking, relaying, blobs, dropbox, datalease];

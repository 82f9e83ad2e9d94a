import { toSendJSON } from '../../wire/sends';
import type { Renderer } from '../../web/render';
import { jsonError, PONG } from './json';
import type { WireProtocol } from './protocol';

/** `/ws/bell`: self-targeting HTML fragments for htmx 4's hx-ws, from the same partials as the pages. */
export const BELL_PATH = '/ws/bell';

/**
 * A state frame's position (issue 14), first in the frame so public/live.js finds it without parsing: the page resumes
 * with `?since=` past the changes it already followed. An element hx-ws never swaps (no hx-swap-oob: the connection
 * swaps nothing else); the number is ours, never user text.
 */
const positioned = (position: number | undefined, html: string) =>
  position === undefined ? html : `<template data-state-position="${position}"></template>${html}`;

/** The bell protocol renders with the app's Nunjucks partials; every fragment swaps itself in (hx-swap-oob). */
export function bellProtocol(renderer: Renderer): WireProtocol {
  return {
    name: 'bell',
    showsBell: true,

    newNotification(n) {
      // Rendered once per batch (see Renderer.newNotificationPush); each copy only gets its id and badge.
      const frame = renderer.newNotificationPush(n);
      return (c, id, position, unreadCount) => {
        // A woken row (its position past its id; one recipient, rare) is rendered on its own to carry its position,
        // which live.js resumes from. A new row's position is its id: the card's id says it.
        c.push(position === id ? frame(id, unreadCount) : renderer.newNotificationPush(n, position)(id, unreadCount), position);
        return 1;
      };
    },
    // Groups (issue 14): a new member replaces its group's line (bell and page list) instead of adding a card; state
    // changes re-render the lines they touched, or remove them.
    newGroupMember: (n, position, group, view) => renderer.groupMemberPush(view, n, group, position),
    groupLines: (lines) => [renderer.groupLinesPush(lines)],
    readState: (view, ids, position) => [positioned(position, renderer.readPush(view, ids))],
    removed: (view, ids, position) => [positioned(position, renderer.statePush(view, ids, 'deleted'))],
    stateChanged: (view, ids, state, returning, position) => [positioned(position, renderer.statePush(view, ids, state, returning))],
    // Replayed after the snapshot (which brought the bell, badge included): only what the live push does to the rows.
    replayStates: (ids, state, position, returning) => positioned(position, renderer.stateReplayPush(ids, state, returning)),
    snapshot: (view) => renderer.bell(view, { oob: true }),
    // After the snapshot (which brought the bell): the notification list's missed cards, when the page asked.
    replay: (n, position) => renderer.replayPush(n, position),
    application(change, audience, inserted) {
      if (audience === 'instructor') return renderer.applicationPush(change.application, change, inserted);
      if (audience === 'candidate') return renderer.statusPush(change.application, change);
      return renderer.countsPush(change.application.course.id, change, audience === 'adminViewer');
    },
    // A course send's row in "Recently sent" (push-send.njk), with its Cancel for whoever may stop it. A send to no
    // course (an admin's "everyone") has no row on any page: the console follows it.
    sendProgress(send, audience) {
      if (send.courseId === null) return undefined;
      const b = { ...toSendJSON(send), type: send.type };
      return renderer.render('partials/push-send.njk', { b, courseId: send.courseId, canCancel: audience !== 'instructor' });
    },
    error: jsonError,
    pong: PONG,
  };
}

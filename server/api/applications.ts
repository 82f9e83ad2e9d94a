import { operation } from './operation';
import * as schemas from './schemas';
import { ApplicationPageSchema, ApplicationSchema } from './schemas/responses';

const tag = 'Applications';
const byId = { id: schemas.id };

// --- a candidate's own; an instructor's courses'; everything for an admin

const list = operation({
  method: 'get',
  path: '/applications',
  operationId: 'listApplications',
  tag,
  summary: 'Applications I may see',
  description: 'A candidate’s own; an instructor’s courses’; every application for an admin.',
  access: 'user',
  scopes: ['applications:read'],
  query: schemas.listApplicationsQuery,
  responses: { 200: { description: 'A page.', schema: ApplicationPageSchema } },
  handler: async function list({ services, user, query }, res) {
    const { status, course_id: courseId, limit, offset } = query;
    res.json(await services.applications.list(user, { status, courseId, limit, offset }));
  },
});

const show = operation({
  method: 'get',
  path: '/applications/{id}',
  operationId: 'getApplication',
  tag,
  summary: 'One application',
  description: 'An application the user may not see is a 404.',
  access: 'user',
  scopes: ['applications:read'],
  params: byId,
  responses: { 200: { description: 'The application.', schema: ApplicationSchema } },
  handler: async function show({ services, user, params }, res) {
    res.json(await services.applications.get(user, params.id));
  },
});

// --- decisions

const approve = operation({
  method: 'post',
  path: '/applications/{id}/approve',
  operationId: 'approveApplication',
  tag,
  summary: 'Approve a pending application',
  description:
    'Enrolls the candidate and notifies them (`application_approved`), in one transaction. Only the ' +
    'course’s instructor or an admin; another instructor’s application is a 404.',
  access: ['instructor', 'admin'],
  scopes: ['applications:decide'],
  params: byId,
  responses: { 200: { description: 'The approved application.', schema: ApplicationSchema } },
  errors: { 409: 'The application was already decided.' },
  handler: async function approve({ services, user, params }, res) {
    res.json(await services.applications.approve(user, params.id));
  },
});

const reject = operation({
  method: 'post',
  path: '/applications/{id}/reject',
  operationId: 'rejectApplication',
  tag,
  summary: 'Reject a pending application',
  description: 'Notifies the candidate (`application_rejected`) with the reason, in one transaction.',
  access: ['instructor', 'admin'],
  scopes: ['applications:decide'],
  params: byId,
  body: schemas.rejectBody,
  responses: { 200: { description: 'The rejected application.', schema: ApplicationSchema } },
  errors: { 409: 'The application was already decided.' },
  handler: async function reject({ services, user, params, body }, res) {
    res.json(await services.applications.reject(user, params.id, body.reason));
  },
});

export const applicationOperations = [list, show, approve, reject];

import { z } from 'zod';
import { APPLICATION_STATUSES } from '../models';
import { int, timestamp } from './common';

export const ApplicationSchema = z
  .strictObject({
    id: int,
    status: z.enum(APPLICATION_STATUSES),
    motivation: z.string(),
    reason: z.string().nullable().describe('Why it was rejected, when a reason was given.'),
    created_at: timestamp,
    decided_at: timestamp.nullable(),
    candidate: z.strictObject({ id: int, name: z.string(), email: z.string() }),
    course: z.strictObject({ id: int, title: z.string(), instructor_id: int }),
  })
  .meta({ id: 'Application', description: 'A candidate’s application to a course.' });

/** An application as the API answers it, the instructor's pages render it and the admin hints carry it. */
export type ApplicationJSON = z.output<typeof ApplicationSchema>;

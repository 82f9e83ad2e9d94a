import { z } from 'zod';
import { int } from './common';

export const CourseSchema = z
  .strictObject({
    id: int,
    title: z.string(),
    description: z.string(),
    instructor: z.strictObject({ id: int, name: z.string() }),
    enrolled_count: int,
    pending_count: int,
    my_application: z
      .strictObject({ id: int, status: z.string() })
      .nullable()
      .describe('The viewer’s own application to this course, if any.'),
    is_enrolled: z.boolean().describe('Whether the viewer is enrolled.'),
  })
  .meta({ id: 'Course', description: 'A course of the catalogue, seen by the signed-in user.' });

/** A course as its viewer sees it (the catalogue page, the course page, the API). */
export type CourseJSON = z.output<typeof CourseSchema>;

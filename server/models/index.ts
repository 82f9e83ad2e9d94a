import {
  DataTypes,
  Model,
  type CreationOptional,
  type ForeignKey,
  type InferAttributes,
  type InferCreationAttributes,
  type NonAttribute,
  type Sequelize,
} from 'sequelize';

export const ROLES = ['candidate', 'instructor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const NOTIFICATION_TYPES = [
  'application_submitted',
  'application_approved',
  'application_rejected',
  'course_enrollment',
  'session_start',
  'exam_result',
  'message',
  'announcement',
  'course_update',
] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

/** The types an instructor (or an admin) may send by hand; the others come from domain triggers. */
export const BROADCAST_TYPES = ['announcement', 'course_update', 'session_start', 'exam_result', 'message'] as const;

export const APPLICATION_STATUSES = ['pending', 'approved', 'rejected'] as const;
export type ApplicationStatus = (typeof APPLICATION_STATUSES)[number];

export class User extends Model<InferAttributes<User>, InferCreationAttributes<User>> {
  declare id: CreationOptional<number>;
  declare email: string;
  declare name: string;
  declare role: Role;
  declare passwordHash: string;
  declare isActive: CreationOptional<boolean>;
  declare lastLoginAt: CreationOptional<Date | null>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

export class Course extends Model<InferAttributes<Course>, InferCreationAttributes<Course>> {
  declare id: CreationOptional<number>;
  declare title: string;
  declare description: CreationOptional<string>;
  declare instructorId: ForeignKey<User['id']>;
  declare instructor?: NonAttribute<User>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

export class Enrollment extends Model<InferAttributes<Enrollment>, InferCreationAttributes<Enrollment>> {
  declare courseId: number;
  declare studentId: number;
  declare createdAt: CreationOptional<Date>;
}

export class Application extends Model<InferAttributes<Application>, InferCreationAttributes<Application>> {
  declare id: CreationOptional<number>;
  declare courseId: number;
  declare candidateId: number;
  declare motivation: CreationOptional<string>;
  declare status: CreationOptional<ApplicationStatus>;
  declare reason: CreationOptional<string | null>;
  declare decidedBy: CreationOptional<number | null>;
  declare decidedAt: CreationOptional<Date | null>;
  declare course?: NonAttribute<Course>;
  declare candidate?: NonAttribute<User>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

export class Notification extends Model<InferAttributes<Notification>, InferCreationAttributes<Notification>> {
  /** bigserial: pg returns it as a string; the serializer turns it into a number (safe far past our scale). */
  declare id: CreationOptional<string>;
  declare recipientId: number;
  declare senderId: CreationOptional<number | null>;
  declare type: NotificationType;
  declare title: string;
  declare message: CreationOptional<string>;
  declare data: CreationOptional<Record<string, unknown>>;
  declare applicationId: CreationOptional<number | null>;
  declare courseId: CreationOptional<number | null>;
  declare batchId: CreationOptional<string | null>;
  declare readAt: CreationOptional<Date | null>;
  declare createdAt: CreationOptional<Date>;
}

export interface Models {
  User: typeof User;
  Course: typeof Course;
  Enrollment: typeof Enrollment;
  Application: typeof Application;
  Notification: typeof Notification;
}

/** Binds the model classes to one Sequelize instance. The schema itself is owned by migrations/. */
export function initModels(sequelize: Sequelize): Models {
  const ts = { createdAt: { type: DataTypes.DATE }, updatedAt: { type: DataTypes.DATE } };
  User.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      email: { type: DataTypes.STRING, allowNull: false },
      name: { type: DataTypes.STRING, allowNull: false },
      role: { type: DataTypes.STRING, allowNull: false },
      passwordHash: { type: DataTypes.TEXT, allowNull: false },
      isActive: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: true },
      lastLoginAt: { type: DataTypes.DATE },
      ...ts,
    },
    { sequelize, tableName: 'users' },
  );
  Course.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      title: { type: DataTypes.STRING, allowNull: false },
      description: { type: DataTypes.TEXT, allowNull: false, defaultValue: '' },
      ...ts,
    },
    { sequelize, tableName: 'courses' },
  );
  Enrollment.init(
    {
      courseId: { type: DataTypes.INTEGER, primaryKey: true },
      studentId: { type: DataTypes.INTEGER, primaryKey: true },
      createdAt: { type: DataTypes.DATE },
    },
    { sequelize, tableName: 'enrollments', updatedAt: false },
  );
  Application.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      courseId: { type: DataTypes.INTEGER, allowNull: false },
      candidateId: { type: DataTypes.INTEGER, allowNull: false },
      motivation: { type: DataTypes.TEXT, allowNull: false, defaultValue: '' },
      status: { type: DataTypes.STRING, allowNull: false, defaultValue: 'pending' },
      reason: { type: DataTypes.TEXT },
      decidedBy: { type: DataTypes.INTEGER },
      decidedAt: { type: DataTypes.DATE },
      ...ts,
    },
    { sequelize, tableName: 'applications' },
  );
  Notification.init(
    {
      id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
      recipientId: { type: DataTypes.INTEGER, allowNull: false },
      senderId: { type: DataTypes.INTEGER },
      type: { type: DataTypes.STRING, allowNull: false },
      title: { type: DataTypes.STRING, allowNull: false },
      message: { type: DataTypes.TEXT, allowNull: false, defaultValue: '' },
      data: { type: DataTypes.JSONB, allowNull: false, defaultValue: {} },
      applicationId: { type: DataTypes.INTEGER },
      courseId: { type: DataTypes.INTEGER },
      batchId: { type: DataTypes.UUID },
      readAt: { type: DataTypes.DATE },
      createdAt: { type: DataTypes.DATE },
    },
    { sequelize, tableName: 'notifications', updatedAt: false },
  );

  Course.belongsTo(User, { as: 'instructor', foreignKey: 'instructorId' });
  Application.belongsTo(Course, { as: 'course', foreignKey: 'courseId' });
  Application.belongsTo(User, { as: 'candidate', foreignKey: 'candidateId' });
  return { User, Course, Enrollment, Application, Notification };
}

-- DropExtension
DROP EXTENSION "citext";

-- DropExtension
DROP EXTENSION "pg_trgm";

-- CreateExtension
CREATE EXTENSION IF NOT EXISTS "citext" WITH VERSION "1.6";

-- CreateExtension
CREATE EXTENSION IF NOT EXISTS "pg_trgm" WITH SCHEMA "ext";

-- CreateExtension
CREATE EXTENSION IF NOT EXISTS "pgcrypto";

-- AlterTable
ALTER TABLE "A" ADD COLUMN     "n" TEXT;


-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "other";

-- CreateEnum
CREATE TYPE "auth"."E" AS ENUM ('X');

-- DropTable
DROP TABLE "A";

-- CreateTable
CREATE TABLE "auth"."A" (
    "id" INTEGER NOT NULL,
    "e" "auth"."E" NOT NULL,

    CONSTRAINT "A_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "other"."B" (
    "id" INTEGER NOT NULL,

    CONSTRAINT "B_pkey" PRIMARY KEY ("id")
);


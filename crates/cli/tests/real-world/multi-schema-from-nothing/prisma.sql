-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "other";

-- CreateEnum
CREATE TYPE "E" AS ENUM ('a');

-- CreateEnum
CREATE TYPE "other"."G" AS ENUM ('a');

-- CreateTable
CREATE TABLE "A" (
    "id" INTEGER NOT NULL,
    "e" "E" NOT NULL DEFAULT 'a',
    "g" "other"."G" NOT NULL,
    "es" "E"[],

    CONSTRAINT "A_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "other"."C" (
    "id" INTEGER NOT NULL,
    "e" "E" NOT NULL,
    "g" "other"."G" NOT NULL DEFAULT 'a',

    CONSTRAINT "C_pkey" PRIMARY KEY ("id")
);


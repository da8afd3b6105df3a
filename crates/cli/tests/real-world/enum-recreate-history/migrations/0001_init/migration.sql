-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "S" AS ENUM ('A', 'B', 'C');

-- CreateTable
CREATE TABLE "T" (
    "id" INTEGER NOT NULL,
    "s" "S" NOT NULL DEFAULT 'C',
    "ss" "S"[] DEFAULT ARRAY['A', 'C']::"S"[],
    "o" "S",

    CONSTRAINT "T_pkey" PRIMARY KEY ("id")
);


-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "T" (
    "id" INTEGER NOT NULL,
    "a" TIME NOT NULL,
    "b" TIMESTAMP NOT NULL,
    "c" TIMESTAMPTZ NOT NULL,
    "d" TIMETZ NOT NULL,

    CONSTRAINT "T_pkey" PRIMARY KEY ("id")
);


-- CreateExtension
CREATE EXTENSION IF NOT EXISTS "citext";

-- CreateTable
CREATE TABLE "User" (
    "id" INTEGER NOT NULL,
    "email" CITEXT NOT NULL,

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

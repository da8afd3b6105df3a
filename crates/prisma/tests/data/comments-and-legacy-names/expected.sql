-- CreateEnum
CREATE TYPE "roles" AS ENUM ('USER', 'ADMIN');

-- CreateTable
CREATE TABLE "users" (
    "id" INTEGER NOT NULL,
    "credentialId" BYTEA NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT,
    "role" "roles" NOT NULL DEFAULT 'USER',

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");

-- CreateIndex
CREATE INDEX "User_en_idx" ON "users"("email", "name");

-- CreateIndex
CREATE UNIQUE INDEX "users_name_role_key" ON "users"("name", "role");

-- AlterTable
ALTER TABLE "Credential" ADD COLUMN     "credentialId" BYTEA NOT NULL;

